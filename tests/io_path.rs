//! The IO path: an idle worker blocks in the OS poller, work from other
//! threads reaches it there, the reactor thread keeps IO and timers moving
//! while every worker is busy, and a loop closes while a worker sits in the
//! poller.
//!
//! Whether a worker is blocked in the poller is read from Linux's
//! `/proc/self/task/*/syscall` (the system call a thread is blocked in),
//! so these tests are Linux-only.
#![cfg(target_os = "linux")]

mod common;

use std::io::{Read as _, Write as _};
use std::sync::mpsc;
use std::time::Duration;

use common::{DropCounter, event_loop};

/// How long a test waits for something that has no signal to wait on (a
/// thread reaching a system call) before it fails.
const PATIENCE: Duration = Duration::from_secs(30);

/// The system calls that block in epoll.
fn is_epoll_wait(number: i64) -> bool {
    #[cfg(target_arch = "x86_64")]
    if number == libc::SYS_epoll_wait {
        return true;
    }
    number == libc::SYS_epoll_pwait || number == libc::SYS_epoll_pwait2
}

/// Whether the thread named `name` is blocked in epoll right now.
fn blocked_in_epoll(name: &str) -> bool {
    // The kernel keeps the first 15 bytes of a thread's name.
    let name = &name[..name.len().min(15)];
    let Ok(entries) = std::fs::read_dir("/proc/self/task") else {
        return false;
    };
    entries.filter_map(|e| e.ok()).any(|entry| {
        let path = entry.path();
        let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        if comm.trim() != name {
            return false;
        }
        let syscall = std::fs::read_to_string(path.join("syscall")).unwrap_or_default();
        syscall
            .split_whitespace()
            .next()
            .and_then(|n| n.parse::<i64>().ok())
            .is_some_and(is_epoll_wait)
    })
}

/// Waits until the loop's only worker, `name`, is blocked in the poller.
/// Normally the idle worker takes it at once; if the reactor thread held it
/// (the worker started after the reactor's first watch period), a timer on
/// a task hands it back: the reactor releases it after waking the task,
/// and the worker takes it when it runs dry.
fn wait_until_worker_polls(lp: &evloop::EventLoop, name: &str) {
    let deadline = std::time::Instant::now() + PATIENCE;
    while !blocked_in_epoll(name) {
        assert!(
            std::time::Instant::now() < deadline,
            "the idle worker {name} never blocked in the poller"
        );
        let handle = lp.handle();
        lp.run_until_complete(async move {
            handle
                .spawn(evloop::sleep(Duration::from_millis(1)))
                .await
                .unwrap()
        });
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The next message, which must come: a lost wake-up fails the test
/// instead of hanging it.
fn within_patience<T>(receiver: &mpsc::Receiver<T>) -> T {
    receiver
        .recv_timeout(PATIENCE)
        .expect("the worker blocked in the poller was woken")
}

fn thread_name() -> String {
    std::thread::current().name().unwrap_or_default().to_owned()
}

#[test]
fn a_foreign_spawn_wakes_the_worker_blocked_in_the_poller() {
    let lp = event_loop(1, "iop-spawn");
    wait_until_worker_polls(&lp, "iop-spawn-worker-0");
    let (sender, ran_on) = mpsc::channel();
    let task = lp
        .handle()
        .spawn(async move { sender.send(thread_name()).unwrap() });
    assert_eq!(within_patience(&ran_on), "iop-spawn-worker-0");
    lp.run_until_complete(task).unwrap();
    lp.close();
}

#[test]
fn call_soon_threadsafe_wakes_the_worker_blocked_in_the_poller() {
    let lp = event_loop(1, "iop-call");
    wait_until_worker_polls(&lp, "iop-call-worker-0");
    let (sender, ran_on) = mpsc::channel();
    lp.handle()
        .call_soon_threadsafe(move || sender.send(thread_name()).unwrap());
    assert_eq!(within_patience(&ran_on), "iop-call-worker-0");
    lp.close();
}

#[test]
fn run_coroutine_threadsafe_wakes_the_worker_blocked_in_the_poller() {
    let lp = event_loop(1, "iop-coro");
    wait_until_worker_polls(&lp, "iop-coro-worker-0");
    let mut future = lp
        .handle()
        .run_coroutine_threadsafe(async { thread_name() });
    let ran_on = future
        .result_timeout(PATIENCE)
        .expect("the coroutine runs on the worker blocked in the poller");
    assert_eq!(ran_on, "iop-coro-worker-0");
    lp.close();
}

#[test]
fn a_worker_blocked_in_the_poller_runs_the_task_its_readiness_event_wakes() {
    let lp = event_loop(1, "iop-read");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (sender, got) = mpsc::channel();
    let reader = lp.handle().spawn(async move {
        let mut stream = evloop::net::TcpStream::connect(addr).await.unwrap();
        let mut buf = [0u8; 4];
        let n = stream.read(&mut buf).await.unwrap();
        sender.send((buf[..n].to_vec(), thread_name())).unwrap();
    });
    let (mut peer, _) = listener.accept().unwrap();
    wait_until_worker_polls(&lp, "iop-read-worker-0");
    peer.write_all(b"ping").unwrap();
    let (bytes, ran_on) = within_patience(&got);
    assert_eq!(bytes, b"ping");
    assert_eq!(ran_on, "iop-read-worker-0");
    lp.run_until_complete(reader).unwrap();
    lp.close();
}

#[test]
fn close_while_a_worker_is_blocked_in_the_poller() {
    let lp = event_loop(1, "iop-close");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let drops = DropCounter::new();
    let (connected, is_connected) = mpsc::channel();
    let guard = drops.guard();
    // Detached: closing the loop drops them.
    drop(lp.handle().spawn(async move {
        let _guard = guard;
        let mut stream = evloop::net::TcpStream::connect(addr).await.unwrap();
        connected.send(()).unwrap();
        // Nothing ever arrives: the task waits on IO until the loop closes.
        let mut buf = [0u8; 1];
        let _ = stream.read(&mut buf).await;
    }));
    let (_peer, _) = listener.accept().unwrap();
    is_connected.recv().unwrap();
    let sleeper = drops.guard();
    drop(lp.handle().spawn(async move {
        let _guard = sleeper;
        evloop::sleep(Duration::from_secs(3600)).await;
    }));
    wait_until_worker_polls(&lp, "iop-close-worker-0");
    lp.close();
    assert_eq!(drops.count(), 2, "both waiting tasks were dropped");
}

#[test]
fn io_and_timers_progress_while_every_worker_is_blocked() {
    const WORKERS: usize = 2;
    let lp = event_loop(WORKERS, "iop-busy");
    // Block every worker in a task until the end of the test.
    let (started, all_started) = mpsc::channel();
    let (release, released) = mpsc::channel::<()>();
    let released = std::sync::Arc::new(std::sync::Mutex::new(released));
    let blockers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let started = started.clone();
            let released = released.clone();
            lp.handle().spawn(async move {
                started.send(()).unwrap();
                // Holding the lock keeps the other blocker waiting on it,
                // so each blocker pins a worker of its own.
                let _ = released.lock().unwrap().recv();
            })
        })
        .collect();
    let unblock = ReleaseOnDrop(Some(release), WORKERS);
    for _ in 0..WORKERS {
        all_started.recv().unwrap();
    }

    // Only the reactor thread can drive the poller now: this future runs
    // on the test thread, and its timer and its IO complete through it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = std::thread::spawn(move || {
        let (mut peer, _) = listener.accept().unwrap();
        peer.write_all(b"pong").unwrap();
        let mut rest = Vec::new();
        peer.read_to_end(&mut rest).unwrap();
    });
    let received = lp.run_until_complete(async move {
        evloop::sleep(Duration::from_millis(5)).await;
        let mut stream = evloop::net::TcpStream::connect(addr).await.unwrap();
        let mut buf = [0u8; 4];
        let mut filled = 0;
        while filled < buf.len() {
            filled += stream.read(&mut buf[filled..]).await.unwrap();
        }
        buf
    });
    assert_eq!(&received, b"pong");
    peer.join().unwrap();

    drop(unblock);
    for blocker in blockers {
        lp.run_until_complete(blocker).unwrap();
    }
    lp.close();
}

/// Lets the blocking tasks go, even when the test fails half-way.
struct ReleaseOnDrop(Option<mpsc::Sender<()>>, usize);

impl Drop for ReleaseOnDrop {
    fn drop(&mut self) {
        if let Some(release) = self.0.take() {
            for _ in 0..self.1 {
                let _ = release.send(());
            }
        }
    }
}
