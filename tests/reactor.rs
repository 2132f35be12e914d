//! The reactor seen from plain threads: a thread that entered a loop
//! (`Handle::enter`) creates timers and sockets of that loop and polls them
//! itself, and closing the loop completes whatever still waits on its
//! reactor.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::mpsc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use evloop::net::{TcpListener, TcpStream};
use evloop::{EventLoop, sleep, timeout};

struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `future` on this thread until it completes; `polled_once` hears
/// when the first poll returned `Pending`.
fn poll_here<F: Future>(future: F, polled_once: mpsc::Sender<()>) -> F::Output {
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    match future.as_mut().poll(&mut cx) {
        Poll::Ready(_) => panic!("expected the future to wait first"),
        Poll::Pending => polled_once.send(()).unwrap(),
    }
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        thread::park();
    }
}

#[test]
fn sleep_waits_at_least_its_duration() {
    let start = Instant::now();
    evloop::run(sleep(Duration::from_millis(15)));
    assert!(start.elapsed() >= Duration::from_millis(15));
}

#[test]
fn timeout_gives_up_on_a_slow_future() {
    let result = evloop::run(timeout(
        Duration::from_millis(5),
        sleep(Duration::from_secs(60)),
    ));
    assert!(result.is_err());
}

#[test]
fn a_thread_that_entered_a_loop_polls_its_timers_itself() {
    let lp = EventLoop::new().unwrap();
    let handle = lp.handle();
    let start = Instant::now();
    thread::spawn(move || {
        let _guard = handle.enter();
        let (polled, _polled_rx) = mpsc::channel();
        poll_here(sleep(Duration::from_millis(10)), polled);
    })
    .join()
    .unwrap();
    assert!(start.elapsed() >= Duration::from_millis(10));
    lp.close();
}

#[test]
fn closing_the_loop_completes_pending_sleeps() {
    let lp = EventLoop::new().unwrap();
    let handle = lp.handle();
    let (polled_tx, polled_rx) = mpsc::channel();
    let sleeper = thread::spawn(move || {
        let _guard = handle.enter();
        poll_here(sleep(Duration::from_secs(3600)), polled_tx);
    });
    polled_rx.recv().unwrap();
    lp.close();
    sleeper.join().unwrap();
}

#[test]
fn closing_the_loop_wakes_io_waiters_with_an_error() {
    let lp = EventLoop::new().unwrap();
    let handle = lp.handle();
    let (polled_tx, polled_rx) = mpsc::channel();
    let acceptor = thread::spawn(move || {
        let _guard = handle.enter();
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let listener = TcpListener::from_std(std_listener).unwrap();
        poll_here(listener.accept(), polled_tx).map(|_| ())
    });
    polled_rx.recv().unwrap();
    lp.close();
    let error = acceptor.join().unwrap().unwrap_err();
    assert!(
        error.to_string().contains("reactor has shut down"),
        "{error}"
    );
}

#[test]
fn loopback_echo_through_the_reactor() {
    evloop::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        client.write_all(b"hello reactor").await.unwrap();
        let mut buf = [0; 64];
        let n = server.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"hello reactor");
        drop(client);
        assert_eq!(server.read(&mut buf).await.unwrap(), 0);
    });
}

#[test]
fn connecting_to_a_closed_port_is_refused() {
    let addr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    let error = evloop::run(TcpStream::connect(addr)).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::ConnectionRefused);
}
