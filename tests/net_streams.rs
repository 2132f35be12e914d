//! asyncio's streams: `open_connection`, `start_server`, `StreamReader` and
//! `StreamWriter`.

use std::future::{Future, poll_fn};
use std::io;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;

use evloop::EventLoop;
use evloop::net::{
    DEFAULT_LIMIT, IncompleteReadError, StreamError, StreamReader, StreamWriter, open_connection,
    open_connection_with_limit, start_server, start_server_with_limit,
};
use evloop::sync::{Event, Queue};

fn two_workers() -> EventLoop {
    EventLoop::builder().worker_threads(2).build().unwrap()
}

/// Echoes every line back until the end of the stream.
async fn echo_lines(mut reader: StreamReader, writer: StreamWriter) {
    loop {
        match reader.readline().await {
            Ok(line) if line.is_empty() => break,
            Ok(line) => {
                writer.write(&line);
                if writer.drain().await.is_err() {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    writer.close();
}

/// Polls `future` once: its output if it is ready at once.
/// A server that reads each connection to its end and hands what it read
/// to the returned queue.
async fn read_to_end_server() -> (evloop::net::Server, Arc<Queue<Vec<u8>>>) {
    let received = Arc::new(Queue::<Vec<u8>>::new(0));
    let server = start_server(
        {
            let received = received.clone();
            move |mut reader, _writer| {
                let received = received.clone();
                async move {
                    received
                        .put(reader.read_to_end().await.unwrap())
                        .await
                        .unwrap();
                }
            }
        },
        "127.0.0.1:0",
    )
    .await
    .unwrap();
    (server, received)
}

async fn poll_once<F: Future>(future: std::pin::Pin<&mut F>) -> Option<F::Output> {
    let mut future = Some(future);
    poll_fn(|cx| {
        let polled = future.take().expect("polled once").poll(cx);
        Poll::Ready(match polled {
            Poll::Ready(output) => Some(output),
            Poll::Pending => None,
        })
    })
    .await
}

#[test]
fn echo_through_start_server_and_open_connection() {
    let lp = two_workers();
    lp.run_until_complete(async {
        let server = start_server(echo_lines, "127.0.0.1:0").await.unwrap();
        let (mut reader, writer) = open_connection(server.local_addr()).await.unwrap();
        for line in [&b"hello\n"[..], b"second line\n", b"\n"] {
            writer.write(line);
            writer.drain().await.unwrap();
            assert_eq!(reader.readline().await.unwrap(), line);
        }
        writer.write_eof();
        assert_eq!(reader.readline().await.unwrap(), b"");
        assert!(reader.at_eof());
        server.close();
        server.wait_closed().await;
    });
    lp.close();
}

#[test]
fn readline_returns_each_line_then_the_partial_last_line_then_empty() {
    let lp = two_workers();
    lp.run_until_complete(async {
        let server = start_server(
            |_reader, writer| async move {
                writer.write(b"one\ntwo\r\n\nno newline at the end");
                writer.close();
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let (mut reader, _writer) = open_connection(server.local_addr()).await.unwrap();
        let mut lines = Vec::new();
        loop {
            let line = reader.readline().await.unwrap();
            if line.is_empty() {
                break;
            }
            lines.push(line);
        }
        assert_eq!(
            lines,
            [&b"one\n"[..], b"two\r\n", b"\n", b"no newline at the end"]
        );
        assert!(reader.at_eof());
        assert_eq!(reader.readline().await.unwrap(), b"");
    });
    lp.close();
}

#[test]
fn readline_over_the_limit_fails_discards_the_line_and_keeps_memory_bounded() {
    const LIMIT: usize = 1024;
    const LONG: usize = 4 << 20;
    let lp = two_workers();
    lp.run_until_complete(async {
        let server = start_server(
            |_reader, writer| async move {
                writer.write(&vec![b'x'; LONG]);
                writer.write(b"\nnext\n");
                writer.close();
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let (mut reader, _writer) = open_connection_with_limit(server.local_addr(), LIMIT)
            .await
            .unwrap();

        // readuntil leaves what it read in the buffer, which holds no more
        // than the limit plus one socket read, not the 4 MiB line.
        match reader.readuntil(b"\n").await {
            Err(StreamError::LimitOverrun(error)) => {
                assert!(error.consumed > LIMIT, "{error}");
                assert_eq!(error.limit, LIMIT);
                assert!(!error.separator_found);
                assert!(error.to_string().contains("limit of 1024 bytes"));
            }
            other => panic!("expected a limit overrun, got {other:?}"),
        }
        assert!(reader.buffered().len() > LIMIT);
        assert!(reader.buffered().len() <= LIMIT + 64 * 1024);

        // readline reports the overrun and throws the overlong line away,
        // piece by piece, until the next line.
        let mut overruns = 0;
        let mut lines = Vec::new();
        loop {
            match reader.readline().await {
                Err(StreamError::LimitOverrun(_)) => {
                    overruns += 1;
                    assert!(reader.buffered().len() <= LIMIT + 64 * 1024);
                }
                Ok(line) if line.is_empty() => break,
                Ok(line) => {
                    assert!(line.len() <= LIMIT + 1, "a line longer than the limit");
                    lines.push(line);
                }
                Err(other) => panic!("unexpected error {other}"),
            }
        }
        assert!(overruns >= 1);
        // At most the tail of the long line (shorter than the limit), then
        // the next line, intact.
        assert_eq!(lines.last().unwrap(), b"next\n");
        assert!(lines.len() <= 2);
        if lines.len() == 2 {
            assert!(lines[0].iter().take(lines[0].len() - 1).all(|&b| b == b'x'));
        }
    });
    lp.close();
}

#[test]
fn readline_discards_a_complete_overlong_line_and_returns_the_next_one() {
    let lp = two_workers();
    lp.run_until_complete(async {
        let server = start_server(
            |_reader, writer| async move {
                let mut message = b"z".to_vec();
                message.extend_from_slice(&[b'y'; 40]);
                message.extend_from_slice(b"\nshort\n");
                writer.write(&message);
                writer.close();
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let (mut reader, _writer) = open_connection_with_limit(server.local_addr(), 16)
            .await
            .unwrap();
        // The message was sent in one piece and arrives in one socket read:
        // the overlong line is in the buffer, end included.
        assert_eq!(reader.readexactly(1).await.unwrap(), b"z");
        assert_eq!(reader.buffered().len(), 47);
        match reader.readline().await {
            Err(StreamError::LimitOverrun(error)) => {
                assert!(error.separator_found);
                assert_eq!(error.consumed, 40);
            }
            other => panic!("expected a limit overrun, got {other:?}"),
        }
        assert_eq!(reader.readline().await.unwrap(), b"short\n");
        assert_eq!(reader.readline().await.unwrap(), b"");
    });
    lp.close();
}

#[test]
fn readuntil_finds_a_separator_split_across_two_writes() {
    let lp = two_workers();
    lp.run_until_complete(async {
        let second_half = Arc::new(Event::new());
        let server = start_server(
            {
                let second_half = second_half.clone();
                move |_reader, writer| {
                    let second_half = second_half.clone();
                    async move {
                        writer.write(b"first part--E");
                        second_half.wait().await;
                        writer.write(b"ND--rest");
                        writer.close();
                    }
                }
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let (mut reader, _writer) = open_connection(server.local_addr()).await.unwrap();
        // The first write arrives whole in one socket read: the buffer now
        // ends in the middle of the separator, and the rest is not sent yet.
        assert_eq!(reader.readexactly(1).await.unwrap(), b"f");
        assert_eq!(reader.buffered(), b"irst part--E");
        second_half.set();
        assert_eq!(
            reader.readuntil(b"--END--").await.unwrap(),
            b"irst part--END--"
        );
        assert_eq!(reader.read_to_end().await.unwrap(), b"rest");
    });
    lp.close();
}

#[test]
fn readuntil_waits_across_many_small_writes() {
    let lp = two_workers();
    lp.run_until_complete(async {
        let next_byte = Arc::new(Queue::<()>::new(0));
        let server = start_server(
            {
                let next_byte = next_byte.clone();
                move |_reader, writer| {
                    let next_byte = next_byte.clone();
                    async move {
                        for byte in b"key=value\r\n" {
                            next_byte.get().await.unwrap();
                            writer.write(&[*byte]);
                        }
                    }
                }
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let (mut reader, _writer) = open_connection(server.local_addr()).await.unwrap();
        let mut line = pin!(reader.readuntil(b"\r\n"));
        // Release one byte at a time; the read stays pending until the last.
        for _ in 0..10 {
            next_byte.put(()).await.unwrap();
            assert!(poll_once(line.as_mut()).await.is_none());
        }
        next_byte.put(()).await.unwrap();
        assert_eq!(line.await.unwrap(), b"key=value\r\n");
    });
    lp.close();
}

#[test]
fn readexactly_past_the_end_gives_the_partial_bytes_in_the_error() {
    let lp = two_workers();
    lp.run_until_complete(async {
        let server = start_server(
            |_reader, writer| async move {
                writer.write(b"0123456789abc");
                writer.close();
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let (mut reader, _writer) = open_connection(server.local_addr()).await.unwrap();
        assert_eq!(reader.readexactly(10).await.unwrap(), b"0123456789");
        let error = match reader.readexactly(8).await {
            Err(StreamError::IncompleteRead(error)) => error,
            other => panic!("expected an incomplete read, got {other:?}"),
        };
        assert_eq!(
            error,
            IncompleteReadError {
                partial: b"abc".to_vec(),
                expected: Some(8)
            }
        );
        assert_eq!(
            error.to_string(),
            "end of stream after 3 bytes, 8 were expected"
        );
        // The partial bytes moved into the error: nothing is left to read.
        assert!(reader.at_eof());
        let io_error: io::Error = StreamError::IncompleteRead(error).into();
        assert_eq!(io_error.kind(), io::ErrorKind::UnexpectedEof);
        match reader.readuntil(b"\n").await {
            Err(StreamError::IncompleteRead(error)) => {
                assert!(error.partial.is_empty());
                assert_eq!(error.expected, None);
            }
            other => panic!("expected an incomplete read, got {other:?}"),
        }
    });
    lp.close();
}

#[test]
fn at_eof_turns_true_only_once_the_end_was_read() {
    let lp = two_workers();
    lp.run_until_complete(async {
        let may_close = Arc::new(Event::new());
        let server = start_server(
            {
                let may_close = may_close.clone();
                move |_reader, writer| {
                    let may_close = may_close.clone();
                    async move {
                        writer.write(b"data");
                        may_close.wait().await;
                        writer.close();
                    }
                }
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let (mut reader, _writer) = open_connection(server.local_addr()).await.unwrap();
        assert!(!reader.at_eof());
        assert_eq!(reader.readexactly(4).await.unwrap(), b"data");
        // Everything was read, but the end has not been seen yet.
        assert!(!reader.at_eof());
        may_close.set();
        assert_eq!(reader.read(100).await.unwrap(), b"");
        assert!(reader.at_eof());
        assert_eq!(reader.read(100).await.unwrap(), b"");
    });
    lp.close();
}

#[test]
fn read_returns_at_most_n_bytes_and_nothing_for_zero() {
    let lp = two_workers();
    lp.run_until_complete(async {
        let server = start_server(
            |_reader, writer| async move {
                writer.write(b"abcdef");
                writer.close();
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let (mut reader, _writer) = open_connection(server.local_addr()).await.unwrap();
        assert_eq!(reader.read(0).await.unwrap(), b"");
        let mut received = Vec::new();
        loop {
            let chunk = reader.read(4).await.unwrap();
            assert!(chunk.len() <= 4);
            if chunk.is_empty() {
                break;
            }
            received.extend(chunk);
        }
        assert_eq!(received, b"abcdef");
    });
    lp.close();
}

#[test]
fn drain_waits_while_the_peer_does_not_read_and_resumes_when_it_does() {
    const CHUNK: usize = 64 * 1024;
    const HIGH_WATER: usize = 64 * 1024;
    let lp = two_workers();
    lp.run_until_complete(async {
        let start_reading = Arc::new(Event::new());
        let received = Arc::new(Queue::<usize>::new(0));
        let server = start_server(
            {
                let start_reading = start_reading.clone();
                let received = received.clone();
                move |mut reader, _writer| {
                    let start_reading = start_reading.clone();
                    let received = received.clone();
                    async move {
                        start_reading.wait().await;
                        let all = reader.read_to_end().await.unwrap();
                        assert!(all.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8));
                        received.put(all.len()).await.unwrap();
                    }
                }
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let (_reader, writer) = open_connection(server.local_addr()).await.unwrap();
        let mut sent = 0usize;
        let pending_drain = loop {
            let chunk: Vec<u8> = (sent..sent + CHUNK).map(|i| (i % 251) as u8).collect();
            writer.write(&chunk);
            sent += CHUNK;
            // drain() only ever let us get one chunk past the high-water mark.
            assert!(writer.write_buffer_size() <= HIGH_WATER + CHUNK);
            assert!(sent < 1 << 30, "drain never applied back-pressure");
            let mut drain = Box::pin(writer.drain());
            match poll_once(drain.as_mut()).await {
                Some(result) => result.unwrap(),
                None => break drain,
            }
        };
        // The peer does not read: the OS buffers are full and ours is above
        // the high-water mark.
        assert!(writer.write_buffer_size() > HIGH_WATER);
        start_reading.set();
        pending_drain.await.unwrap();
        assert!(writer.write_buffer_size() <= HIGH_WATER / 4);
        writer.close();
        writer.wait_closed().await.unwrap();
        assert_eq!(received.get().await.unwrap(), sent);
    });
    lp.close();
}

#[test]
fn writes_without_drain_are_all_delivered_in_order() {
    const TOTAL: usize = 8 << 20;
    let lp = two_workers();
    lp.run_until_complete(async {
        let (server, received) = read_to_end_server().await;
        let (_reader, writer) = open_connection(server.local_addr()).await.unwrap();
        let data: Vec<u8> = (0..TOTAL).map(|i| (i * 7 % 256) as u8).collect();
        for piece in data.chunks(100_000) {
            writer.write(piece);
        }
        // Nothing waited: the rest goes out in the background, then the
        // peer sees the end.
        writer.write_eof();
        assert!(received.get().await.unwrap() == data);
    });
    lp.close();
}

#[test]
fn close_sends_what_is_buffered_then_ends_the_connection() {
    let lp = two_workers();
    lp.run_until_complete(async {
        let (server, received) = read_to_end_server().await;
        let (mut reader, writer) = open_connection(server.local_addr()).await.unwrap();
        let pending_read = evloop::spawn(async move { reader.read(10).await });
        let big = vec![7u8; 3 << 20];
        writer.write(&big);
        assert!(!writer.is_closing());
        writer.close();
        assert!(writer.is_closing());
        writer.wait_closed().await.unwrap();
        assert_eq!(received.get().await.unwrap().len(), big.len());
        // Closing shut both directions: the read waiting on this side ends.
        assert_eq!(pending_read.await.unwrap().unwrap(), b"");
        // The writer is done for good.
        assert_eq!(
            writer.drain().await.unwrap_err().kind(),
            io::ErrorKind::ConnectionReset
        );
        writer.write(b"too late");
        assert_eq!(
            writer.drain().await.unwrap_err().kind(),
            io::ErrorKind::BrokenPipe
        );
    });
    lp.close();
}

#[test]
fn a_write_to_a_connection_the_peer_closed_is_reported_by_drain_and_wait_closed() {
    let lp = two_workers();
    lp.run_until_complete(async {
        // The handler drops both halves at once: the socket closes.
        let server = start_server(|_reader, _writer| async {}, "127.0.0.1:0")
            .await
            .unwrap();
        let (mut reader, writer) = open_connection(server.local_addr()).await.unwrap();
        assert_eq!(reader.read(1).await.unwrap(), b"");
        let error = loop {
            writer.write(&[0; 1024]);
            if let Err(error) = writer.drain().await {
                break error;
            }
            evloop::yield_now().await;
        };
        assert!(
            matches!(
                error.kind(),
                io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
            ),
            "{error}"
        );
        assert!(writer.is_closing());
        assert_eq!(writer.wait_closed().await.unwrap_err().kind(), error.kind());
    });
    lp.close();
}

#[test]
fn a_closed_server_refuses_new_connections_and_wait_closed_returns() {
    let lp = two_workers();
    lp.run_until_complete(async {
        let served = Arc::new(AtomicUsize::new(0));
        let server = start_server(
            {
                let served = served.clone();
                move |reader, writer| {
                    served.fetch_add(1, Ordering::SeqCst);
                    echo_lines(reader, writer)
                }
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let addr = server.local_addr();
        let (mut reader, writer) = open_connection(addr).await.unwrap();
        writer.write(b"ping\n");
        assert_eq!(reader.readline().await.unwrap(), b"ping\n");
        writer.close();
        assert!(server.is_serving());
        server.close();
        assert!(!server.is_serving());
        server.wait_closed().await;
        let refused = open_connection(addr).await.unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::ConnectionRefused);
        assert_eq!(served.load(Ordering::SeqCst), 1);
    });
    lp.close();
}

#[test]
fn wait_closed_waits_for_the_handlers_still_running() {
    let lp = two_workers();
    lp.run_until_complete(async {
        let started = Arc::new(Event::new());
        let finish = Arc::new(Event::new());
        let server = start_server(
            {
                let started = started.clone();
                let finish = finish.clone();
                move |_reader, _writer| {
                    let started = started.clone();
                    let finish = finish.clone();
                    async move {
                        started.set();
                        finish.wait().await;
                    }
                }
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let _client = open_connection(server.local_addr()).await.unwrap();
        started.wait().await;
        let mut closed = pin!(server.wait_closed());
        // Not closed yet.
        assert!(poll_once(closed.as_mut()).await.is_none());
        server.close();
        // Closed, but a handler still runs.
        assert!(poll_once(closed.as_mut()).await.is_none());
        finish.set();
        closed.await;
    });
    lp.close();
}

#[test]
fn a_panicking_handler_does_not_stop_the_server() {
    let lp = two_workers();
    lp.run_until_complete(async {
        let server = start_server(
            |mut reader: StreamReader, writer: StreamWriter| async move {
                let line = reader.readline().await.unwrap();
                if line == b"panic\n" {
                    panic!("the handler panics on purpose");
                }
                writer.write(&line);
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        for _ in 0..3 {
            let (mut reader, writer) = open_connection(server.local_addr()).await.unwrap();
            writer.write(b"panic\n");
            // The panicking task dropped its connection.
            assert!(matches!(reader.read(10).await.as_deref(), Ok(b"") | Err(_)));
        }
        let (mut reader, writer) = open_connection(server.local_addr()).await.unwrap();
        writer.write(b"still serving\n");
        assert_eq!(reader.readline().await.unwrap(), b"still serving\n");
        // The panicked handlers are no longer counted as running.
        server.close();
        server.wait_closed().await;
    });
    lp.close();
}

#[test]
fn a_handler_that_panics_before_its_first_await_does_not_stop_the_server() {
    let lp = two_workers();
    lp.run_until_complete(async {
        let calls = Arc::new(AtomicUsize::new(0));
        let server = start_server(
            {
                let calls = calls.clone();
                move |reader, writer| {
                    if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                        panic!("the handler panics before returning its future");
                    }
                    echo_lines(reader, writer)
                }
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let (mut reader, _writer) = open_connection(server.local_addr()).await.unwrap();
        assert!(matches!(reader.read(10).await.as_deref(), Ok(b"") | Err(_)));
        let (mut reader, writer) = open_connection(server.local_addr()).await.unwrap();
        writer.write(b"served\n");
        assert_eq!(reader.readline().await.unwrap(), b"served\n");
    });
    lp.close();
}

#[test]
fn a_hundred_concurrent_clients_each_get_their_own_lines_back() {
    let lp = two_workers();
    lp.run_until_complete(async {
        let server = start_server(echo_lines, "127.0.0.1:0").await.unwrap();
        let addr = server.local_addr();
        let clients: Vec<_> = (0..100)
            .map(|client| {
                evloop::spawn(async move {
                    let (mut reader, writer) = open_connection(addr).await.unwrap();
                    for round in 0..20 {
                        let line = format!("client {client} round {round}\n");
                        writer.write(line.as_bytes());
                        writer.drain().await.unwrap();
                        assert_eq!(reader.readline().await.unwrap(), line.as_bytes());
                    }
                    writer.write_eof();
                    assert_eq!(reader.readline().await.unwrap(), b"");
                })
            })
            .collect();
        for client in clients {
            client.await.unwrap();
        }
        server.close();
        server.wait_closed().await;
    });
    lp.close();
}

#[test]
fn serve_forever_returns_once_the_server_is_closed() {
    let lp = two_workers();
    lp.run_until_complete(async {
        let server = start_server(echo_lines, "127.0.0.1:0").await.unwrap();
        let serving = evloop::spawn({
            let server = server.clone();
            async move { server.serve_forever().await }
        });
        let (mut reader, writer) = open_connection(server.local_addr()).await.unwrap();
        writer.write(b"x\n");
        assert_eq!(reader.readline().await.unwrap(), b"x\n");
        writer.close();
        server.close();
        serving.await.unwrap();
        assert!(!server.is_serving());
    });
    lp.close();
}

#[test]
fn dropping_serve_forever_closes_the_server() {
    let lp = two_workers();
    lp.run_until_complete(async {
        let server = start_server(echo_lines, "127.0.0.1:0").await.unwrap();
        let mut serving = Box::pin(server.serve_forever());
        assert!(poll_once(serving.as_mut()).await.is_none());
        assert!(server.is_serving());
        // Like cancelling asyncio's serve_forever.
        drop(serving);
        assert!(!server.is_serving());
        server.wait_closed().await;
        let refused = open_connection(server.local_addr()).await.unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::ConnectionRefused);
    });
    lp.close();
}

#[test]
fn a_zero_limit_is_refused_and_the_default_is_64_kib() {
    let lp = two_workers();
    lp.run_until_complete(async {
        let error = start_server_with_limit(echo_lines, "127.0.0.1:0", 0)
            .await
            .unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        let server = start_server(echo_lines, "127.0.0.1:0").await.unwrap();
        let error = open_connection_with_limit(server.local_addr(), 0)
            .await
            .unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        let (reader, _writer) = open_connection(server.local_addr()).await.unwrap();
        assert_eq!(reader.limit(), DEFAULT_LIMIT);
        assert_eq!(DEFAULT_LIMIT, 64 * 1024);
    });
    lp.close();
}
