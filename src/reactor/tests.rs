//! Tests of the reactor on its own: futures are driven by a minimal
//! single-threaded executor on the test thread.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use super::{Handle, Reactor};
use crate::net::{TcpListener, TcpStream};
use crate::time::{sleep, timeout};

thread_local! {
    static CURRENT: std::cell::RefCell<Option<Handle>> = const { std::cell::RefCell::new(None) };
}

/// The reactor that `reactor::current` returns on this test thread, if any.
pub(super) fn current_override() -> Option<Handle> {
    CURRENT.with(|current| current.borrow().clone())
}

/// Makes `handle` the current thread's reactor until the guard is dropped.
fn enter(handle: Handle) -> impl Drop {
    struct Exit(Option<Handle>);
    impl Drop for Exit {
        fn drop(&mut self) {
            let previous = self.0.take();
            CURRENT.with(|current| *current.borrow_mut() = previous);
        }
    }
    Exit(CURRENT.with(|current| current.borrow_mut().replace(handle)))
}

struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Drives `future` to completion on this thread, with `reactor` current.
fn block_on<F: Future>(reactor: &Reactor, future: F) -> F::Output {
    let _current = enter(reactor.handle());
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        thread::park();
    }
}

#[test]
fn sleep_waits_at_least_its_duration() {
    let reactor = Reactor::start("test").unwrap();
    let start = Instant::now();
    block_on(&reactor, sleep(Duration::from_millis(15)));
    assert!(start.elapsed() >= Duration::from_millis(15));
}

#[test]
fn timeout_gives_up_on_a_slow_future() {
    let reactor = Reactor::start("test").unwrap();
    let result = block_on(
        &reactor,
        timeout(Duration::from_millis(5), sleep(Duration::from_secs(60))),
    );
    assert!(result.is_err());
}

#[test]
fn shutdown_completes_pending_sleeps() {
    let reactor = Reactor::start("test").unwrap();
    let handle = reactor.handle();
    let sleeper = thread::spawn(move || {
        let _current = enter(handle.clone());
        let waker = Waker::from(Arc::new(Unpark(thread::current())));
        let mut cx = Context::from_waker(&waker);
        let mut sleep = pin!(sleep(Duration::from_secs(3600)));
        assert!(sleep.as_mut().poll(&mut cx).is_pending());
        loop {
            if sleep.as_mut().poll(&mut cx).is_ready() {
                return;
            }
            thread::park();
        }
    });
    while reactor.handle().timers_in_wheel() == 0 {
        thread::yield_now();
    }
    reactor.shutdown();
    sleeper.join().unwrap();
}

#[test]
fn shutdown_wakes_io_waiters_with_an_error() {
    let reactor = Reactor::start("test").unwrap();
    let listener = block_on(&reactor, TcpListener::bind("127.0.0.1:0")).unwrap();
    let handle = reactor.handle();
    let (polled_tx, polled_rx) = std::sync::mpsc::channel();
    let acceptor = thread::spawn(move || {
        let _current = enter(handle);
        let waker = Waker::from(Arc::new(Unpark(thread::current())));
        let mut cx = Context::from_waker(&waker);
        let mut accept = pin!(listener.accept());
        assert!(accept.as_mut().poll(&mut cx).is_pending());
        polled_tx.send(()).unwrap();
        loop {
            if let Poll::Ready(result) = accept.as_mut().poll(&mut cx) {
                return result.map(|_| ());
            }
            thread::park();
        }
    });
    polled_rx.recv().unwrap();
    reactor.shutdown();
    let error = acceptor.join().unwrap().unwrap_err();
    assert!(
        error.to_string().contains("reactor has shut down"),
        "{error}"
    );
}

#[test]
fn loopback_echo_through_the_reactor() {
    let reactor = Reactor::start("test").unwrap();
    block_on(&reactor, async {
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
    let reactor = Reactor::start("test").unwrap();
    let addr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    let error = block_on(&reactor, TcpStream::connect(addr)).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::ConnectionRefused);
}

#[test]
fn readiness_api_for_streams_waits_for_data_and_clears_on_would_block() {
    let reactor = Reactor::start("test").unwrap();
    block_on(&reactor, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let mut buf = [0; 16];
        let error = server.try_read(&mut buf).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::WouldBlock);
        std::future::poll_fn(|cx| server.poll_write_ready(cx))
            .await
            .unwrap();
        client.write_all(b"ready").await.unwrap();
        loop {
            std::future::poll_fn(|cx| server.poll_read_ready(cx))
                .await
                .unwrap();
            match server.try_read(&mut buf) {
                Ok(n) => {
                    assert_eq!(&buf[..n], b"ready");
                    break;
                }
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(error) => panic!("{error}"),
            }
        }
        assert_eq!(server.try_write(b"back").unwrap(), 4);
    });
}
