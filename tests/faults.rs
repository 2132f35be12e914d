//! Faults in user code and on the wire do not take the loop down: panics
//! in tasks and callbacks, a task that blocks its worker, a peer that resets
//! its connection.

mod common;

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::panic::{self, PanicHookInfo};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, mpsc};
use std::time::{Duration, Instant};

use common::{event_loop, threads_named};
use evloop::EventLoop;
use evloop::net::{TcpListener, TcpStream};

/// Generous bound for anything that should take milliseconds.
const PATIENCE: Duration = Duration::from_secs(30);

type PanicHook = Box<dyn Fn(&PanicHookInfo<'_>) + Sync + Send + 'static>;

/// Silences the panic hook while it lives, so that thousands of expected
/// panics do not bury the test output; puts the previous hook back on drop.
/// Only one test at a time may hold it (the hook is process-wide).
struct QuietPanics {
    previous: Option<PanicHook>,
    _exclusive: MutexGuard<'static, ()>,
}

impl QuietPanics {
    fn new() -> QuietPanics {
        static EXCLUSIVE: Mutex<()> = Mutex::new(());
        let exclusive = EXCLUSIVE.lock().unwrap_or_else(|e| e.into_inner());
        let previous = panic::take_hook();
        panic::set_hook(Box::new(|_| {}));
        QuietPanics {
            previous: Some(previous),
            _exclusive: exclusive,
        }
    }
}

impl Drop for QuietPanics {
    fn drop(&mut self) {
        if let Some(previous) = self.previous.take() {
            panic::set_hook(previous);
        }
    }
}

/// Echoes everything back until the peer closes.
async fn echo(mut stream: TcpStream) -> io::Result<()> {
    let mut buf = vec![0; 4096];
    loop {
        match stream.read(&mut buf).await? {
            0 => return Ok(()),
            n => stream.write_all(&buf[..n]).await?,
        }
    }
}

/// Starts an echo server on the loop; returns its address.
fn start_echo_server(lp: &EventLoop) -> SocketAddr {
    let listener = lp
        .run_until_complete(TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    drop(lp.handle().spawn(async move {
        loop {
            let (stream, _) = listener.accept().await?;
            drop(evloop::spawn(echo(stream)));
        }
        #[allow(unreachable_code)]
        Ok::<(), io::Error>(())
    }));
    addr
}

/// A blocking client round trip through an echo server.
fn echo_round_trip(addr: SocketAddr, message: &[u8]) -> Vec<u8> {
    let mut client = std::net::TcpStream::connect(addr).unwrap();
    client.set_read_timeout(Some(PATIENCE)).unwrap();
    client.write_all(message).unwrap();
    let mut back = vec![0; message.len()];
    client.read_exact(&mut back).unwrap();
    back
}

/// Asserts that the loop still serves a TCP echo and fires a timer.
fn assert_loop_serves_echo_and_timers(lp: &EventLoop, addr: SocketAddr) {
    assert_eq!(echo_round_trip(addr, b"still alive"), b"still alive");
    let (fired_tx, fired_rx) = mpsc::channel();
    lp.handle()
        .call_later(Duration::from_millis(5), move || fired_tx.send(()).unwrap());
    fired_rx
        .recv_timeout(PATIENCE)
        .expect("a timer fires after the panics");
}

const PANICS_PER_KIND: usize = 2_500;

#[test]
fn ten_thousand_panics_in_tasks_and_callbacks_leave_workers_and_reactor_serving() {
    let lp = event_loop(2, "fpanic");
    let addr = start_echo_server(&lp);
    let handle = lp.handle();
    let quiet = QuietPanics::new();

    // Tasks: each ends with a panic error; none takes a worker down.
    let task_errors = lp.run_until_complete(async {
        let tasks: Vec<_> = (0..PANICS_PER_KIND)
            .map(|i| evloop::spawn(async move { panic!("task {i} fails") }))
            .collect();
        let mut panics = 0;
        for task in tasks {
            if task.await.is_err_and(|err| err.is_panic()) {
                panics += 1;
            }
        }
        panics
    });
    assert_eq!(task_errors, PANICS_PER_KIND);

    // Callbacks from another thread, timer callbacks and done callbacks:
    // each runs (counted) and panics.
    let ran = Arc::new(AtomicUsize::new(0));
    let (all_ran_tx, all_ran_rx) = mpsc::channel();
    let all_ran_tx = Arc::new(Mutex::new(all_ran_tx));
    let expected = 3 * PANICS_PER_KIND;
    let count_and_panic = {
        let ran = ran.clone();
        move |what: &str| {
            if ran.fetch_add(1, Ordering::SeqCst) + 1 == expected {
                let _ = all_ran_tx.lock().unwrap().send(());
            }
            panic!("{what} fails")
        }
    };
    for i in 0..PANICS_PER_KIND {
        let fail = count_and_panic.clone();
        handle.call_soon_threadsafe(move || fail("call_soon_threadsafe callback"));
        let fail = count_and_panic.clone();
        handle.call_later(Duration::from_micros((i % 50) as u64), move || {
            fail("timer callback")
        });
        let fail = count_and_panic.clone();
        let task = handle.spawn(async {});
        task.add_done_callback(move |_| fail("done callback"));
    }
    all_ran_rx
        .recv_timeout(PATIENCE)
        .expect("every panicking callback ran");
    drop(quiet);

    assert_eq!(ran.load(Ordering::SeqCst), expected);
    assert_eq!(threads_named("fpanic-worker").len(), 2);
    assert_eq!(threads_named("fpanic-reactor").len(), 1);
    assert_loop_serves_echo_and_timers(&lp, addr);
    lp.close();
}

#[test]
fn a_task_blocking_its_worker_for_a_second_does_not_stop_other_tasks_or_timers() {
    let lp = event_loop(2, "faultblock");
    let handle = lp.handle();
    let blocker_done = Arc::new(AtomicBool::new(false));
    let (blocking_tx, blocking_rx) = mpsc::channel();
    let blocker = handle.spawn({
        let blocker_done = blocker_done.clone();
        async move {
            blocking_tx.send(()).unwrap();
            std::thread::sleep(Duration::from_secs(1));
            blocker_done.store(true, Ordering::SeqCst);
        }
    });
    blocking_rx.recv_timeout(PATIENCE).unwrap();
    let started = Instant::now();

    // A task that ticks every 10 ms, and a timed callback, both while the
    // blocker holds its worker.
    let (tick_tx, tick_rx) = mpsc::channel();
    let ticker = handle.spawn(async move {
        loop {
            evloop::sleep(Duration::from_millis(10)).await;
            if tick_tx.send(()).is_err() {
                return;
            }
        }
    });
    let (timer_tx, timer_rx) = mpsc::channel();
    handle.call_later(Duration::from_millis(50), {
        let blocker_done = blocker_done.clone();
        move || timer_tx.send(blocker_done.load(Ordering::SeqCst)).unwrap()
    });

    for _ in 0..5 {
        tick_rx.recv_timeout(PATIENCE).unwrap();
    }
    let ticks_seen_at = started.elapsed();
    let ticked_while_blocked = !blocker_done.load(Ordering::SeqCst);
    let timer_fired_while_blocked = !timer_rx.recv_timeout(PATIENCE).unwrap();
    assert!(
        ticked_while_blocked,
        "5 ticks of 10 ms took {ticks_seen_at:?}: the other tasks waited for the blocker"
    );
    assert!(
        timer_fired_while_blocked,
        "the 50 ms timer only fired after the blocker's second"
    );

    lp.run_until_complete(blocker).unwrap();
    ticker.cancel();
    lp.close();
}

/// Resets a connection: SO_LINGER with a zero timeout makes `close` send
/// an RST instead of a FIN.
fn reset(stream: std::net::TcpStream) {
    let socket = socket2::Socket::from(stream);
    socket.set_linger(Some(Duration::ZERO)).unwrap();
    drop(socket);
}

#[test]
fn a_peer_resetting_mid_transfer_fails_only_its_reader_with_connection_reset() {
    let lp = event_loop(2, "faultreset");
    let listener = lp
        .run_until_complete(TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();

    let (progress_tx, progress_rx) = mpsc::channel();
    let reader = lp.handle().spawn(async move {
        let (mut stream, _) = listener.accept().await?;
        let mut received = 0usize;
        let mut buf = vec![0; 4096];
        let (survivor, _) = listener.accept().await?;
        let survivor = evloop::spawn(echo(survivor));
        loop {
            match stream.read(&mut buf).await {
                Ok(0) => return Ok((received, Ok(()), survivor)),
                Ok(n) => {
                    received += n;
                    let _ = progress_tx.send(received);
                }
                Err(error) => return Ok::<_, io::Error>((received, Err(error), survivor)),
            }
        }
    });

    let mut doomed = std::net::TcpStream::connect(addr).unwrap();
    let mut survivor = std::net::TcpStream::connect(addr).unwrap();
    survivor.set_read_timeout(Some(PATIENCE)).unwrap();
    // Mid-transfer: the reader has seen part of the data when the reset comes.
    doomed.write_all(&[7; 64 * 1024]).unwrap();
    progress_rx.recv_timeout(PATIENCE).unwrap();
    reset(doomed);

    let (received, outcome, survivor_task) = lp.run_until_complete(reader).unwrap().unwrap();
    let error = outcome.expect_err("a reset connection ends with an error, not end of stream");
    assert_eq!(error.kind(), io::ErrorKind::ConnectionReset, "{error}");
    assert!(received <= 64 * 1024);

    survivor.write_all(b"untouched").unwrap();
    let mut back = [0; 9];
    survivor.read_exact(&mut back).unwrap();
    assert_eq!(&back, b"untouched");
    drop(survivor);
    lp.run_until_complete(survivor_task).unwrap().unwrap();
    lp.close();
}

#[test]
fn writing_to_a_peer_that_reset_gives_an_error_not_a_signal() {
    let lp = event_loop(2, "faultpipe");
    let listener = lp
        .run_until_complete(TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (accepted_tx, accepted_rx) = mpsc::channel();
    let writer = lp.handle().spawn(async move {
        let (mut stream, _) = listener.accept().await?;
        accepted_tx.send(()).unwrap();
        // The peer never reads: the socket buffers fill and the write waits
        // until the reset wakes it with an error.
        let chunk = vec![1; 64 * 1024];
        loop {
            stream.write_all(&chunk).await?;
        }
        #[allow(unreachable_code)]
        Ok::<(), io::Error>(())
    });
    let doomed = std::net::TcpStream::connect(addr).unwrap();
    accepted_rx.recv_timeout(PATIENCE).unwrap();
    reset(doomed);
    let error = lp.run_until_complete(writer).unwrap().unwrap_err();
    assert!(
        matches!(
            error.kind(),
            io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
        ),
        "{error}"
    );
    lp.close();
}

/// Wakes the waker it holds when the thread-local holding it is destroyed.
struct WakesOnDrop(std::cell::RefCell<Option<std::task::Waker>>);

impl Drop for WakesOnDrop {
    fn drop(&mut self) {
        if let Some(waker) = self.0.borrow_mut().take() {
            waker.wake();
        }
    }
}

thread_local! {
    static WAKES_ON_EXIT: WakesOnDrop = const { WakesOnDrop(std::cell::RefCell::new(None)) };
}

#[test]
fn waking_a_task_from_a_thread_local_destructor_queues_it_without_aborting() {
    let lp = event_loop(2, "tlswake");
    let handle = lp.handle();
    let (waker_tx, waker_rx) = mpsc::channel();
    let mut woken = false;
    let task = handle.spawn(std::future::poll_fn(move |cx| {
        if woken {
            return std::task::Poll::Ready("ran after the wake");
        }
        woken = true;
        waker_tx.send(cx.waker().clone()).unwrap();
        std::task::Poll::Pending
    }));
    let waker = waker_rx.recv_timeout(PATIENCE).unwrap();
    let exiting = std::thread::spawn(move || {
        // Registered first, so destroyed after evloop's own thread-local,
        // which entering the loop below creates: the wake then finds
        // evloop's thread state gone.
        WAKES_ON_EXIT.with(|slot| *slot.0.borrow_mut() = Some(waker));
        drop(handle.enter());
    });
    exiting.join().expect("the exiting thread finished");
    let outcome = lp.run_until_complete(evloop::timeout(PATIENCE, task));
    assert_eq!(
        outcome.expect("the woken task ran").unwrap(),
        "ran after the wake"
    );
}
