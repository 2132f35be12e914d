//! TCP: listener, streams, owned halves, and the errors the OS reports.

use std::future::poll_fn;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::sync::mpsc;
use std::time::Duration;

use evloop::EventLoop;
use evloop::net::{TcpListener, TcpStream};
use futures_core::Stream;
use futures_io::{AsyncRead, AsyncWrite};

fn two_workers() -> EventLoop {
    EventLoop::builder().worker_threads(2).build().unwrap()
}

/// Reads until `buf` is full; errors on a premature end of stream.
async fn read_exact(stream: &mut TcpStream, buf: &mut [u8]) -> io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        match stream.read(&mut buf[filled..]).await? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => filled += n,
        }
    }
    Ok(())
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

/// A client and the server side of its connection, on loopback.
async fn connected_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

/// An address nothing listens on.
fn unused_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

#[test]
fn echo_serves_200_concurrent_clients_each_getting_its_own_bytes() {
    let lp = two_workers();
    lp.run_until_complete(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = evloop::spawn(async move {
            let mut connections = Vec::new();
            for _ in 0..200 {
                let (stream, _) = listener.accept().await.unwrap();
                connections.push(evloop::spawn(echo(stream)));
            }
            for connection in connections {
                connection.await.unwrap().unwrap();
            }
        });
        let clients: Vec<_> = (0..200u32)
            .map(|client| {
                evloop::spawn(async move {
                    let mut stream = TcpStream::connect(addr).await.unwrap();
                    for round in 0..10u32 {
                        let message: Vec<u8> = (0..64u32)
                            .map(|i| (client * 31 + round * 7 + i) as u8)
                            .collect();
                        stream.write_all(&message).await.unwrap();
                        let mut echoed = [0; 64];
                        read_exact(&mut stream, &mut echoed).await.unwrap();
                        assert_eq!(&echoed[..], &message[..], "client {client} round {round}");
                    }
                })
            })
            .collect();
        for client in clients {
            client.await.unwrap();
        }
        server.await.unwrap();
    });
    lp.close();
}

/// FNV-1a, to compare what was sent with what arrived.
fn checksum(hash: &mut u64, bytes: &[u8]) {
    for &byte in bytes {
        *hash ^= byte as u64;
        *hash = hash.wrapping_mul(0x100_0000_01b3);
    }
}

#[test]
fn a_64_mib_transfer_arrives_intact() {
    const TOTAL: usize = 64 << 20;
    let lp = two_workers();
    lp.run_until_complete(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let sender = evloop::spawn(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            let mut hash = 0xcbf2_9ce4_8422_2325;
            let mut chunk = vec![0u8; 256 * 1024];
            let mut state = 1u32;
            for _ in 0..TOTAL / chunk.len() {
                for byte in chunk.iter_mut() {
                    state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    *byte = (state >> 24) as u8;
                }
                checksum(&mut hash, &chunk);
                stream.write_all(&chunk).await.unwrap();
            }
            stream.shutdown(Shutdown::Write).unwrap();
            hash
        });
        let (mut stream, _) = listener.accept().await.unwrap();
        let receiver = evloop::spawn(async move {
            let mut hash = 0xcbf2_9ce4_8422_2325;
            let mut received = 0;
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match stream.read(&mut buf).await.unwrap() {
                    0 => return (received, hash),
                    n => {
                        checksum(&mut hash, &buf[..n]);
                        received += n;
                    }
                }
            }
        });
        let sent_hash = sender.await.unwrap();
        let (received, received_hash) = receiver.await.unwrap();
        assert_eq!(received, TOTAL);
        assert_eq!(received_hash, sent_hash);
    });
    lp.close();
}

#[test]
fn connecting_where_nobody_listens_is_refused() {
    let lp = two_workers();
    let addr = unused_addr();
    let error = lp.run_until_complete(TcpStream::connect(addr)).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused);
    lp.close();
}

#[test]
fn binding_an_address_in_use_fails_with_addr_in_use() {
    let lp = two_workers();
    lp.run_until_complete(async {
        let first = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let error = TcpListener::bind(first.local_addr().unwrap())
            .await
            .unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::AddrInUse);
    });
    lp.close();
}

#[test]
fn reading_after_the_peer_closed_returns_zero() {
    let lp = two_workers();
    lp.run_until_complete(async {
        let (mut client, mut server) = connected_pair().await;
        server.write_all(b"last words").await.unwrap();
        drop(server);
        let mut buf = [0; 10];
        read_exact(&mut client, &mut buf).await.unwrap();
        assert_eq!(&buf, b"last words");
        assert_eq!(client.read(&mut buf).await.unwrap(), 0);
        assert_eq!(client.read(&mut buf).await.unwrap(), 0);
    });
    lp.close();
}

#[test]
fn writing_to_a_closed_peer_fails_with_an_io_error() {
    let lp = two_workers();
    lp.run_until_complete(async {
        let (mut client, server) = connected_pair().await;
        drop(server);
        let chunk = [7u8; 64 * 1024];
        let mut outcome = Ok(());
        for _ in 0..1000 {
            outcome = client.write_all(&chunk).await;
            if outcome.is_err() {
                break;
            }
        }
        let kind = outcome.unwrap_err().kind();
        assert!(
            matches!(
                kind,
                io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
            ),
            "unexpected error kind {kind:?}"
        );
    });
    lp.close();
}

#[test]
fn dropping_the_listener_wakes_a_pending_accept_with_an_error() {
    let lp = two_workers();
    lp.run_until_complete(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (polled_tx, polled_rx) = mpsc::channel();
        let accept = listener.accept();
        let waiting = evloop::spawn(async move {
            let mut accept = accept;
            let mut told = false;
            poll_fn(|cx| {
                let poll = Pin::new(&mut accept).poll(cx);
                if !told {
                    told = true;
                    polled_tx.send(()).unwrap();
                }
                poll
            })
            .await
        });
        // Wait until the task is parked in accept (blocking this driving
        // thread is fine: the task runs on a worker), then drop the listener.
        polled_rx.recv().unwrap();
        drop(listener);
        let error = evloop::timeout(Duration::from_secs(10), waiting)
            .await
            .expect("the waiting task was not woken")
            .unwrap()
            .unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::ConnectionAborted);
    });
    lp.close();
}

#[test]
fn incoming_yields_each_connection() {
    let lp = two_workers();
    lp.run_until_complete(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let clients: Vec<_> = (0..3)
            .map(|_| evloop::spawn(TcpStream::connect(addr)))
            .collect();
        let mut incoming = listener.incoming();
        let mut peers = Vec::new();
        for _ in 0..3 {
            let stream = poll_fn(|cx| Pin::new(&mut incoming).poll_next(cx))
                .await
                .unwrap()
                .unwrap();
            peers.push(stream.peer_addr().unwrap());
        }
        let mut locals = Vec::new();
        for client in clients {
            locals.push(client.await.unwrap().unwrap().local_addr().unwrap());
        }
        peers.sort();
        locals.sort();
        assert_eq!(peers, locals);
    });
    lp.close();
}

#[test]
fn owned_halves_read_and_write_from_different_tasks() {
    let lp = two_workers();
    lp.run_until_complete(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = evloop::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            echo(stream).await.unwrap();
        });
        let (mut reader, mut writer) = TcpStream::connect(addr).await.unwrap().into_split();
        let writing = evloop::spawn(async move {
            for i in 0..1000u32 {
                writer.write_all(&i.to_le_bytes()).await.unwrap();
            }
            // Dropping the write half sends end of stream to the server.
        });
        let mut received = Vec::new();
        let mut buf = [0; 1024];
        loop {
            match reader.read(&mut buf).await.unwrap() {
                0 => break,
                n => received.extend_from_slice(&buf[..n]),
            }
        }
        writing.await.unwrap();
        server.await.unwrap();
        let expected: Vec<u8> = (0..1000u32).flat_map(|i| i.to_le_bytes()).collect();
        assert_eq!(received, expected);
    });
    lp.close();
}

#[test]
fn streams_work_through_the_futures_io_traits() {
    let lp = two_workers();
    lp.run_until_complete(async {
        let (mut client, mut server) = connected_pair().await;
        client.set_nodelay(true).unwrap();
        assert!(client.nodelay().unwrap());
        let written = poll_fn(|cx| Pin::new(&mut client).poll_write(cx, b"via traits"))
            .await
            .unwrap();
        assert_eq!(written, 10);
        poll_fn(|cx| Pin::new(&mut client).poll_flush(cx))
            .await
            .unwrap();
        poll_fn(|cx| Pin::new(&mut client).poll_close(cx))
            .await
            .unwrap();
        let mut buf = [0; 32];
        let mut received = Vec::new();
        loop {
            match poll_fn(|cx| Pin::new(&mut server).poll_read(cx, &mut buf))
                .await
                .unwrap()
            {
                0 => break,
                n => received.extend_from_slice(&buf[..n]),
            }
        }
        assert_eq!(received, b"via traits");
        assert_eq!(server.peer_addr().unwrap(), client.local_addr().unwrap());
    });
    lp.close();
}

#[test]
fn a_connect_future_made_outside_the_loop_runs_when_awaited_inside() {
    // Creating the future does not need a loop; awaiting it does.
    let connect = TcpStream::connect(unused_addr());
    let lp = two_workers();
    assert!(lp.run_until_complete(connect).is_err());
    lp.close();
}

/// A client whose peer has reset the connection (closed with a zero
/// linger: RST, not FIN), once the client has seen the reset.
async fn client_reset_by_its_peer() -> TcpStream {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().unwrap();
    socket2::SockRef::from(&server)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(server);
    let error = client.read(&mut [0; 8]).await.unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::ConnectionReset);
    client
}

#[test]
fn shutting_down_a_connection_the_peer_reset_succeeds() {
    evloop::run(async {
        let client = client_reset_by_its_peer().await;
        client.shutdown(Shutdown::Write).unwrap();
        client.shutdown(Shutdown::Both).unwrap();
    });
}

#[test]
fn closing_a_connection_the_peer_reset_succeeds() {
    evloop::run(async {
        let mut client = client_reset_by_its_peer().await;
        poll_fn(|cx| Pin::new(&mut client).poll_close(cx))
            .await
            .unwrap();
        let (_reader, writer) = client_reset_by_its_peer().await.into_split();
        writer.shutdown().unwrap();
    });
}

#[test]
fn an_uninitialised_read_returns_the_bytes_sent() {
    use std::mem::MaybeUninit;
    evloop::run(async {
        let (mut client, mut server) = connected_pair().await;
        let sent: Vec<u8> = (0..=255).cycle().take(100_000).collect();
        let writing = evloop::spawn(async move {
            client.write_all(&sent).await.unwrap();
            sent
        });
        let mut received = Vec::new();
        let mut buf = vec![MaybeUninit::<u8>::uninit(); 4096];
        while received.len() < 100_000 {
            let n = poll_fn(|cx| server.poll_read_uninit(cx, &mut buf))
                .await
                .unwrap();
            assert!(n > 0, "end of stream after {} bytes", received.len());
            // SAFETY: `poll_read_uninit` initialised the first `n` bytes.
            received.extend(buf[..n].iter().map(|byte| unsafe { byte.assume_init() }));
        }
        assert_eq!(received, writing.await.unwrap());
    });
}

#[test]
fn a_host_name_is_resolved_and_connected_to() {
    evloop::run(async {
        let listener = TcpListener::bind("localhost:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let ip = listener.local_addr().unwrap().ip().to_string();
        let client = TcpStream::connect(("localhost", port)).await.unwrap();
        assert_eq!(client.peer_addr().unwrap(), listener.local_addr().unwrap());
        let by_string = TcpStream::connect(format!("{ip}:{port}")).await.unwrap();
        assert_eq!(by_string.peer_addr().unwrap().port(), port);
    });
}

#[test]
fn short_reads_never_miss_bytes_that_arrive_right_after_them() {
    // A read that returns less than its buffer forgets the socket's read
    // readiness. Bytes that arrive between that read and the forgetting
    // must still wake the reader: a plain thread writes small chunks as
    // fast as it can, so they land at every point of the reader's cycle.
    use std::io::Write as _;
    const TOTAL: usize = 2 << 20;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let writer = std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        socket.set_nodelay(true).unwrap();
        let bytes: Vec<u8> = (0..TOTAL).map(|i| (i % 251) as u8).collect();
        let mut sent = 0;
        let mut chunk = 1;
        while sent < TOTAL {
            let end = (sent + chunk).min(TOTAL);
            socket.write_all(&bytes[sent..end]).unwrap();
            sent = end;
            chunk = chunk % 97 + 1;
        }
    });
    let received = evloop::run(async move {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let mut received = Vec::with_capacity(TOTAL);
        let mut buf = vec![0; 4096];
        let reading = async {
            loop {
                match stream.read(&mut buf).await.unwrap() {
                    0 => break,
                    n => received.extend_from_slice(&buf[..n]),
                }
            }
        };
        evloop::wait_for(reading, Duration::from_secs(60))
            .await
            .expect("every byte arrives and the end of stream is seen");
        received
    });
    writer.join().unwrap();
    assert_eq!(received.len(), TOTAL);
    assert!(
        received
            .iter()
            .enumerate()
            .all(|(i, &b)| b == (i % 251) as u8),
        "bytes arrive in order"
    );
}

#[test]
fn data_and_the_end_of_stream_in_one_event_are_both_read() {
    // The peer's last bytes and its end of stream arrive together; the
    // read of the bytes is short, and the end of stream must still be
    // seen by the read after it.
    use std::io::Write as _;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (closed_tx, closed_rx) = mpsc::channel();
    let peer = std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        socket.write_all(b"last words").unwrap();
        drop(socket);
        closed_tx.send(()).unwrap();
    });
    evloop::run(async move {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        closed_rx.recv().unwrap();
        let mut buf = [0; 64];
        let reads = async {
            let n = stream.read(&mut buf).await.unwrap();
            let end = stream.read(&mut buf[n..]).await.unwrap();
            (n, end)
        };
        let (n, end) = evloop::wait_for(reads, Duration::from_secs(30))
            .await
            .expect("the end of stream after the last bytes is seen");
        assert_eq!(&buf[..n], b"last words");
        assert_eq!(end, 0);
    });
    peer.join().unwrap();
}
