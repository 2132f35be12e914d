//! Helpers shared by the integration tests: drop counters, poll counters,
//! thread census.
#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

/// Counts how many times the values it hands out were dropped.
#[derive(Clone, Default)]
pub struct DropCounter(Arc<AtomicUsize>);

impl DropCounter {
    pub fn new() -> DropCounter {
        DropCounter::default()
    }
    pub fn guard(&self) -> DropGuard {
        DropGuard(self.0.clone())
    }
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Increments its counter when dropped.
pub struct DropGuard(Arc<AtomicUsize>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A future that never completes, counting its polls.
pub struct Forever {
    pub polls: Arc<AtomicUsize>,
    pub _guard: Option<DropGuard>,
}

impl Future for Forever {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        Poll::Pending
    }
}

/// A future that never completes and drops `guard` when dropped.
pub async fn pending_with(guard: DropGuard) {
    let _guard = guard;
    std::future::pending::<()>().await
}

/// Names of this process's threads whose name starts with `prefix`
/// (Linux: /proc/self/task/*/comm; elsewhere an empty list).
pub fn threads_named(prefix: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| std::fs::read_to_string(e.path().join("comm")).ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| name.starts_with(prefix))
        .collect()
}

/// Names of this process's threads starting with `prefix` that are still
/// listed once the kernel has had time to release joined threads.
///
/// `JoinHandle::join` returns when the thread has cleared its thread id,
/// which the kernel does just before it removes the thread from
/// `/proc/self/task`; for that short while a joined thread is still
/// listed. This waits up to ten seconds for the list to empty, so a thread
/// that was never joined still shows.
pub fn threads_left(prefix: &str) -> Vec<String> {
    let start = std::time::Instant::now();
    loop {
        let left = threads_named(prefix);
        if left.is_empty() || start.elapsed() > std::time::Duration::from_secs(10) {
            return left;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// A loop with `workers` workers and threads named after `name`.
pub fn event_loop(workers: usize, name: &str) -> evloop::EventLoop {
    evloop::EventLoop::builder()
        .worker_threads(workers)
        .thread_name(name)
        .build()
        .expect("loop starts")
}

/// A waker that panics when woken: user code a loop thread must survive.
pub fn panicking_waker() -> std::task::Waker {
    struct Panics;
    impl std::task::Wake for Panics {
        fn wake(self: Arc<Self>) {
            panic!("this waker panics when woken");
        }
    }
    std::task::Waker::from(Arc::new(Panics))
}

/// Polls `future` once with `waker`, which it keeps if pending, and
/// asserts that it is pending.
pub fn assert_pending_with<F: Future + Unpin>(future: &mut F, waker: &std::task::Waker) {
    let mut cx = Context::from_waker(waker);
    assert!(Pin::new(future).poll(&mut cx).is_pending());
}

/// Builds the example `name` once per test binary, with this test's profile
/// and the given cargo `features`, and returns the path of its executable.
pub fn example_binary(name: &str, features: &[&str]) -> std::path::PathBuf {
    use std::collections::HashMap;
    use std::path::PathBuf;
    use std::sync::{Mutex, OnceLock};
    static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let mut built = BUILT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(path) = built.get(name) {
        return path.clone();
    }
    let test_exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/<this test>
    let profile_dir = test_exe.parent().unwrap().parent().unwrap();
    let target_dir = profile_dir.parent().unwrap();
    let mut build = std::process::Command::new(env!("CARGO"));
    build
        .args(["build", "--quiet", "--example", name, "--manifest-path"])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir);
    if !features.is_empty() {
        build.arg("--features").arg(features.join(","));
    }
    if profile_dir.ends_with("release") {
        build.arg("--release");
    }
    let status = build.status().unwrap();
    assert!(status.success(), "building the {name} example failed");
    let path = profile_dir.join("examples").join(name);
    built.insert(name.to_owned(), path.clone());
    path
}

/// A plain blocking TCP connection to `addr` whose reads give up after a
/// minute (a hung server fails the test instead of hanging it).
pub fn connect(addr: std::net::SocketAddr) -> std::net::TcpStream {
    let stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    stream
}
