//! Unix domain sockets: stream echo, datagrams, asyncio streams over a Unix
//! socket, pathname and abstract addresses, and the errors of bad input.

use std::io::ErrorKind;
use std::path::PathBuf;

use evloop::net::{
    UnixDatagram, UnixListener, UnixStream, open_unix_connection, start_unix_server,
};

/// A fresh directory for the socket files of one test, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("evloop-unix-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An abstract address unique to this process and test.
fn abstract_name(test: &str) -> String {
    format!("\0evloop-test-{test}-{}", std::process::id())
}

async fn echo_once(listener: UnixListener) -> std::io::Result<()> {
    let (mut stream, _) = listener.accept().await?;
    let mut buf = vec![0; 4096];
    loop {
        match stream.read(&mut buf).await? {
            0 => return Ok(()),
            n => stream.write_all(&buf[..n]).await?,
        }
    }
}

async fn round_trip(client: UnixStream, payload: &[u8]) -> std::io::Result<Vec<u8>> {
    let (mut reader, mut writer) = client.into_split();
    writer.write_all(payload).await?;
    drop(writer); // end of stream: the server's loop ends after echoing all
    let mut received = Vec::new();
    let mut buf = [0; 4096];
    loop {
        match reader.read(&mut buf).await? {
            0 => return Ok(received),
            n => received.extend_from_slice(&buf[..n]),
        }
    }
}

#[test]
fn stream_echo_over_a_pathname_socket() {
    let dir = TempDir::new("echo-path");
    let path = dir.path("echo.sock");
    evloop::run(async move {
        let listener = UnixListener::bind(&path).unwrap();
        assert_eq!(listener.local_addr().unwrap().as_pathname(), Some(&*path));
        let server = evloop::spawn(echo_once(listener));
        let payload: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let client = UnixStream::connect(&path).await.unwrap();
        assert_eq!(round_trip(client, &payload).await.unwrap(), payload);
        server.await.unwrap().unwrap();
    });
}

#[test]
fn stream_echo_over_an_abstract_socket() {
    let name = abstract_name("echo-abstract");
    evloop::run(async move {
        let listener = UnixListener::bind(&name).unwrap();
        let addr = listener.local_addr().unwrap();
        assert!(addr.as_pathname().is_none() && !addr.is_unnamed());
        let server = evloop::spawn(echo_once(listener));
        let client = UnixStream::connect(&name).await.unwrap();
        assert_eq!(round_trip(client, b"abstract").await.unwrap(), b"abstract");
        server.await.unwrap().unwrap();
    });
}

#[test]
fn datagrams_round_trip_whole() {
    let dir = TempDir::new("datagram");
    let server_path = dir.path("server.sock");
    let client_path = dir.path("client.sock");
    evloop::run(async move {
        let server = UnixDatagram::bind(&server_path).unwrap();
        let client = UnixDatagram::bind(&client_path).unwrap();
        client.send_to(b"first", &server_path).await.unwrap();
        client.send_to(b"second", &server_path).await.unwrap();
        let mut buf = [0; 64];
        let (n, from) = server.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"first");
        assert_eq!(from.as_pathname(), Some(&*client_path));
        let (n, _) = server.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"second");
        server.send_to(b"reply", &client_path).await.unwrap();
        let n = client.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"reply");
    });
}

#[test]
fn connected_datagram_pair_waits_for_a_message() {
    evloop::run(async {
        let (a, b) = UnixDatagram::pair().unwrap();
        let receiver = evloop::spawn(async move {
            let mut buf = [0; 16];
            let n = b.recv(&mut buf).await.unwrap();
            buf[..n].to_vec()
        });
        evloop::yield_now().await;
        a.send(b"late").await.unwrap();
        assert_eq!(receiver.await.unwrap(), b"late");
    });
}

#[test]
fn readline_over_a_unix_socket_with_asyncio_streams() {
    let dir = TempDir::new("readline");
    let path = dir.path("lines.sock");
    evloop::run(async move {
        let server = start_unix_server(
            |mut reader, writer| async move {
                while let Ok(line) = reader.readline().await {
                    if line.is_empty() {
                        break;
                    }
                    writer.write(&line.to_ascii_uppercase());
                    if writer.drain().await.is_err() {
                        break;
                    }
                }
            },
            &path,
        )
        .await
        .unwrap();
        assert_eq!(server.local_addr().as_pathname(), Some(&*path));

        let (mut reader, writer) = open_unix_connection(&path).await.unwrap();
        writer.write(b"one\ntwo\nthr");
        writer.write(b"ee\n");
        writer.drain().await.unwrap();
        assert_eq!(reader.readline().await.unwrap(), b"ONE\n");
        assert_eq!(reader.readline().await.unwrap(), b"TWO\n");
        assert_eq!(reader.readline().await.unwrap(), b"THREE\n");
        assert_eq!(
            writer.peer_addr().unwrap_err().kind(),
            ErrorKind::Unsupported
        );
        writer.close();
        writer.wait_closed().await.unwrap();
        assert_eq!(reader.read_to_end().await.unwrap(), b"");

        server.close();
        server.wait_closed().await;
        let refused = open_unix_connection(&path).await.unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);
    });
}

#[test]
fn binding_over_a_stale_socket_file_is_a_clear_addr_in_use() {
    let dir = TempDir::new("stale");
    let path = dir.path("stale.sock");
    evloop::run(async move {
        let listener = UnixListener::bind(&path).unwrap();
        let live = UnixListener::bind(&path).unwrap_err();
        assert_eq!(live.kind(), ErrorKind::AddrInUse);
        assert!(live.to_string().contains("already listens"), "{live}");

        drop(listener); // the file stays behind
        let stale = UnixListener::bind(&path).unwrap_err();
        assert_eq!(stale.kind(), ErrorKind::AddrInUse);
        assert!(stale.to_string().contains("stale socket file"), "{stale}");

        let dgram = UnixDatagram::bind(&path).unwrap_err();
        assert_eq!(dgram.kind(), ErrorKind::AddrInUse);

        std::fs::remove_file(&path).unwrap();
        UnixListener::bind(&path).unwrap();
    });
}

#[test]
fn bad_addresses_are_error_values() {
    let dir = TempDir::new("bad");
    let not_a_socket = dir.path("plain-file");
    std::fs::write(&not_a_socket, b"").unwrap();
    evloop::run(async move {
        let missing = UnixStream::connect(dir.path("missing.sock"))
            .await
            .unwrap_err();
        assert_eq!(missing.kind(), ErrorKind::NotFound);

        let taken = UnixListener::bind(&not_a_socket).unwrap_err();
        assert_eq!(taken.kind(), ErrorKind::AddrInUse);
        assert!(taken.to_string().contains("not a socket"), "{taken}");

        let too_long = "x".repeat(200);
        assert_eq!(
            UnixListener::bind(&too_long).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            UnixStream::connect(&too_long).await.unwrap_err().kind(),
            ErrorKind::InvalidInput
        );

        let nobody = abstract_name("nobody-listens");
        assert_eq!(
            UnixStream::connect(&nobody).await.unwrap_err().kind(),
            ErrorKind::ConnectionRefused
        );
        assert_eq!(
            open_unix_connection(&nobody).await.unwrap_err().kind(),
            ErrorKind::ConnectionRefused
        );
        let zero_limit =
            evloop::net::start_unix_server_with_limit(|_r, _w| async {}, abstract_name("zero"), 0)
                .await
                .unwrap_err();
        assert_eq!(zero_limit.kind(), ErrorKind::InvalidInput);
    });
}

#[test]
fn dropping_the_listener_wakes_a_pending_accept_with_an_error() {
    evloop::run(async {
        let listener = UnixListener::bind(abstract_name("drop-accept")).unwrap();
        let pending = evloop::spawn(listener.accept());
        evloop::yield_now().await;
        drop(listener);
        let error = pending.await.unwrap().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ConnectionAborted);
    });
}
