//! Bad input gets a clear error value or a defined behaviour: never a
//! panic, a hang or a lost item. One test per case.

mod common;

use std::future::{Future, poll_fn};
use std::io;
use std::pin::pin;
use std::sync::mpsc;
use std::task::Poll;
use std::time::{Duration, Instant};

use common::{DropCounter, DropGuard, event_loop, threads_named};
use evloop::EventLoop;
use evloop::net::{StreamError, TcpListener, TcpStream, open_connection};
use evloop::sync::{PutNowaitError, Queue};

const PATIENCE: Duration = Duration::from_secs(30);

#[test]
fn a_builder_with_zero_workers_fails_with_invalid_input_and_starts_no_thread() {
    let error = EventLoop::builder()
        .worker_threads(0)
        .thread_name("bad0w")
        .build()
        .unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
    assert!(error.to_string().contains("worker_threads"), "{error}");
    assert!(threads_named("bad0w").is_empty());
}

#[test]
fn a_builder_with_zero_blocking_threads_fails_with_invalid_input_and_starts_no_thread() {
    let error = EventLoop::builder()
        .max_blocking_threads(0)
        .thread_name("bad0b")
        .build()
        .unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
    assert!(
        error.to_string().contains("max_blocking_threads"),
        "{error}"
    );
    assert!(threads_named("bad0b").is_empty());
}

#[test]
fn call_later_with_duration_max_never_runs_and_can_be_cancelled() {
    let lp = event_loop(2, "badmax");
    let handle = lp.handle();
    let (ran_tx, ran_rx) = mpsc::channel::<()>();
    let never = handle.call_later(Duration::MAX, move || ran_tx.send(()).unwrap());
    // A callback scheduled after it, due soon, runs: the far one does not
    // block the queue.
    let (soon_tx, soon_rx) = mpsc::channel();
    handle.call_later(Duration::from_millis(1), move || soon_tx.send(()).unwrap());
    soon_rx.recv_timeout(PATIENCE).unwrap();
    assert!(!never.started());
    assert!(never.cancel(), "a callback that never ran can be cancelled");
    assert!(never.cancelled());
    // Cancelling dropped the callback (and its sender) without running it.
    assert_eq!(
        ran_rx.recv_timeout(PATIENCE),
        Err(mpsc::RecvTimeoutError::Disconnected)
    );
    lp.close();
}

#[test]
fn sleep_and_timeout_with_duration_max_wait_forever_without_overflow() {
    let lp = event_loop(1, "badsleepmax");
    lp.run_until_complete(async {
        let forever = evloop::spawn(evloop::sleep(Duration::MAX));
        assert_eq!(
            evloop::timeout(Duration::MAX, async { 3 }).await.unwrap(),
            3
        );
        evloop::yield_now().await;
        assert!(!forever.done());
        assert!(forever.cancel());
        assert!(forever.await.unwrap_err().is_cancelled());
    });
    lp.close();
}

#[test]
fn sleep_until_an_instant_in_the_past_completes_on_its_first_poll() {
    let lp = event_loop(1, "badpast");
    lp.run_until_complete(async {
        let past = Instant::now() - Duration::from_secs(1);
        let mut sleep = pin!(evloop::sleep_until(past));
        let first = poll_fn(|cx| Poll::Ready(sleep.as_mut().poll(cx))).await;
        assert!(first.is_ready(), "a deadline in the past is already due");
        assert_eq!(evloop::Handle::current().pending_timers(), 0);
    });
    lp.close();
}

#[test]
fn result_timeout_of_zero_on_unfinished_work_times_out_and_keeps_the_future_usable() {
    let lp = event_loop(2, "badzero");
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let mut future = lp.handle().run_coroutine_threadsafe(async move {
        evloop::to_thread(move || release_rx.recv().map(|()| 42))
            .await
            .unwrap()
    });
    let error = future.result_timeout(Duration::ZERO).unwrap_err();
    assert!(error.is_timeout(), "{error}");
    assert!(error.to_string().contains("timed out"), "{error}");
    assert!(!future.done() && !future.cancelled());
    release_tx.send(()).unwrap();
    assert_eq!(future.result_timeout(PATIENCE).unwrap(), Ok(42));
    lp.close();
}

#[test]
fn result_timeout_of_zero_on_finished_work_returns_the_value() {
    let lp = event_loop(1, "badzerodone");
    let (done_tx, done_rx) = mpsc::channel();
    let mut future = lp.handle().run_coroutine_threadsafe(async { "ready" });
    future.add_done_callback(move |_| done_tx.send(()).unwrap());
    done_rx.recv_timeout(PATIENCE).unwrap();
    assert_eq!(future.result_timeout(Duration::ZERO).unwrap(), "ready");
    lp.close();
}

#[test]
fn binding_an_address_in_use_fails_with_addr_in_use() {
    let lp = event_loop(1, "badbind");
    lp.run_until_complete(async {
        let first = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let taken = first.local_addr().unwrap();
        let error = TcpListener::bind(taken).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::AddrInUse, "{error}");
        // The first listener is untouched.
        let _client = TcpStream::connect(taken).await.unwrap();
        first.accept().await.unwrap();
    });
    lp.close();
}

#[test]
fn connecting_to_a_closed_port_fails_with_connection_refused() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let lp = event_loop(1, "badconn");
    let error = lp
        .run_until_complete(TcpStream::connect(closed))
        .unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused, "{error}");
    lp.close();
}

#[test]
fn readexactly_past_the_end_of_stream_gives_the_partial_bytes_in_the_error() {
    let lp = event_loop(2, "badeof");
    lp.run_until_complete(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = evloop::spawn(async move {
            let (mut stream, _) = listener.accept().await?;
            stream.write_all(b"only5").await
            // Dropping the stream ends it.
        });
        let (mut reader, _writer) = open_connection(addr).await.unwrap();
        server.await.unwrap().unwrap();
        match reader.readexactly(10).await {
            Err(StreamError::IncompleteRead(error)) => {
                assert_eq!(error.partial, b"only5", "the bytes that came are kept");
                assert_eq!(error.expected, Some(10));
                assert!(error.to_string().contains("after 5 bytes"), "{error}");
            }
            other => panic!("expected an incomplete read, got {other:?}"),
        }
        // The partial bytes were handed over in the error, not left behind.
        assert!(reader.at_eof());
        assert_eq!(reader.readexactly(0).await.unwrap(), b"");
    });
    lp.close();
}

/// An item that is not `Clone`, so a test sees the very item come back.
struct Parcel {
    id: u32,
    _guard: DropGuard,
}

#[test]
fn put_nowait_on_a_full_queue_gives_the_item_back() {
    let drops = DropCounter::new();
    let queue = Queue::new(1);
    queue
        .put_nowait(Parcel {
            id: 1,
            _guard: drops.guard(),
        })
        .unwrap();
    let refused = queue.put_nowait(Parcel {
        id: 2,
        _guard: drops.guard(),
    });
    let Err(PutNowaitError::Full(parcel)) = refused else {
        panic!("expected Full, got {refused:?}");
    };
    assert_eq!(parcel.id, 2);
    assert_eq!(drops.count(), 0, "nothing was dropped on the way");
    assert_eq!(queue.qsize(), 1);
    assert_eq!(queue.get_nowait().unwrap().id, 1);

    queue.shutdown(false);
    let Err(PutNowaitError::ShutDown(parcel)) = queue.put_nowait(parcel) else {
        panic!("a shut-down queue refuses the item");
    };
    assert_eq!(parcel.id, 2);
    drop(parcel);
    assert_eq!(drops.count(), 2);
}
