//! hyper on evloop: the `http_server` and `axum` examples' servers, run in
//! process and spoken to by hyper's own HTTP/1.1 client (on evloop) or by
//! raw sockets for the misbehaving clients.

#![cfg(feature = "hyper")]

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use evloop::hyper::HyperIo;
use evloop::net::{TcpListener, TcpStream};
use evloop::{EventLoop, Task};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, StatusCode};

#[allow(dead_code)] // its `main` is the example's
#[path = "../examples/http_server.rs"]
mod http_server;

#[allow(dead_code)] // its `main` is the example's
#[path = "../examples/axum.rs"]
mod axum_example;

use http_server::{Options, Stats};

/// The example server, running on a loop of its own.
struct Server {
    event_loop: EventLoop,
    addr: SocketAddr,
    serving: Option<Task<Arc<Stats>>>,
}

impl Server {
    fn start(options: Options) -> Server {
        let event_loop = EventLoop::builder().worker_threads(2).build().unwrap();
        let listener = event_loop
            .run_until_complete(TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let serving = event_loop.handle().spawn(http_server::serve(
            listener,
            options,
            std::future::pending(),
        ));
        Server {
            event_loop,
            addr,
            serving: Some(serving),
        }
    }

    /// Runs `future` on the server's loop (a client beside the server).
    fn run<T>(&self, future: impl Future<Output = T>) -> T {
        self.event_loop.run_until_complete(future)
    }

    /// Stops the server through its stop URL; returns its counters.
    fn stop(&mut self) -> Arc<Stats> {
        let addr = self.addr;
        let serving = self.serving.take().expect("stopped twice");
        self.event_loop.run_until_complete(async move {
            let mut client = connect(addr).await;
            let (status, _) = send(&mut client, Method::POST, "/stop", "").await;
            assert_eq!(status, StatusCode::OK);
            evloop::timeout(Duration::from_secs(30), serving)
                .await
                .expect("the server did not stop")
                .unwrap()
        })
    }
}

/// A hyper client connection to `addr`, driven by a task of the loop.
async fn connect(addr: SocketAddr) -> SendRequest<Full<Bytes>> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (sender, connection) = hyper::client::conn::http1::handshake(HyperIo::new(stream))
        .await
        .unwrap();
    drop(evloop::spawn(connection));
    sender
}

/// Sends one request and reads the whole response.
async fn send(
    client: &mut SendRequest<Full<Bytes>>,
    method: Method,
    path: &str,
    body: &'static str,
) -> (StatusCode, String) {
    client.ready().await.unwrap();
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "evloop.test")
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .unwrap();
    let response = client.send_request(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[test]
fn routes_answer_with_the_right_status_and_body() {
    let mut server = Server::start(Options::default());
    server.run(async {
        let mut client = connect(server.addr).await;
        let hello = send(&mut client, Method::GET, "/", "").await;
        assert_eq!(hello, (StatusCode::OK, "Hello, world!".to_owned()));

        let document = r#"{"name":"evloop","tags":["async","http"],"n":1}"#;
        let (status, echoed) = send(&mut client, Method::POST, "/echo", document).await;
        assert_eq!(status, StatusCode::OK);
        let echoed: serde_json::Value = serde_json::from_str(&echoed).unwrap();
        assert_eq!(
            echoed,
            serde_json::from_str::<serde_json::Value>(document).unwrap()
        );

        let (status, error) = send(&mut client, Method::POST, "/echo", "{not json").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(error.contains("not JSON"), "{error}");

        let job = send(&mut client, Method::GET, "/blocking?ms=20", "").await;
        let expected = "a 20 ms job ran on a blocking thread".to_owned();
        assert_eq!(job, (StatusCode::OK, expected));

        let (status, _) = send(&mut client, Method::GET, "/blocking?ms=lots", "").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, _) = send(&mut client, Method::GET, "/nowhere", "").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    });
    let stats = server.stop();
    assert_eq!(stats.requests.load(Ordering::Relaxed), 7);
    assert_eq!(stats.connection_errors.load(Ordering::Relaxed), 0);
}

#[test]
fn keep_alive_serves_every_request_of_a_client_on_one_connection() {
    let mut server = Server::start(Options::default());
    let stats = server.run(async {
        let mut client = connect(server.addr).await;
        for _ in 0..5 {
            let hello = send(&mut client, Method::GET, "/", "").await;
            assert_eq!(hello.0, StatusCode::OK);
        }
        let (_, stats) = send(&mut client, Method::GET, "/stats", "").await;
        serde_json::from_str::<serde_json::Value>(&stats).unwrap()
    });
    assert_eq!(stats["connections"], 1);
    assert_eq!(stats["requests"], 5);
    server.stop();
}

#[test]
fn a_client_too_slow_to_send_its_request_head_is_cut_off() {
    let mut server = Server::start(Options {
        header_read_timeout: Duration::from_millis(200),
        ..Options::default()
    });
    let mut slow = std::net::TcpStream::connect(server.addr).unwrap();
    // Half a request head, then nothing.
    slow.write_all(b"GET / HTTP/1.1\r\nhost: evloop.test\r\n")
        .unwrap();
    // A hang here would mean no timeout at all; the read timeout turns
    // that into a failure.
    slow.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut answer = Vec::new();
    match slow.read_to_end(&mut answer) {
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(error) => panic!("the connection was not closed: {error}"),
    }
    // hyper closes the connection, possibly after a 408 response.
    assert!(answer.is_empty() || answer.starts_with(b"HTTP/1.1 408"));

    // A client that sends its head in time is served.
    let hello = server.run(async {
        let mut client = connect(server.addr).await;
        send(&mut client, Method::GET, "/", "").await
    });
    assert_eq!(hello.0, StatusCode::OK);
    let stats = server.stop();
    assert_eq!(stats.connection_errors.load(Ordering::Relaxed), 1);
}

#[test]
fn a_thousand_concurrent_connections_are_all_served() {
    const CLIENTS: usize = 1000;
    let mut server = Server::start(Options::default());
    let addr = server.addr;
    server.run(async move {
        // Every client holds its connection open until all have their
        // answer, so the server has all of them open at once.
        let all_answered = Arc::new(evloop::sync::Barrier::new(CLIENTS));
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| {
                let all_answered = all_answered.clone();
                evloop::spawn(async move {
                    let mut client = connect(addr).await;
                    let hello = send(&mut client, Method::GET, "/", "").await;
                    all_answered.wait().await.unwrap();
                    hello
                })
            })
            .collect();
        for client in clients {
            let hello = client.await.unwrap();
            assert_eq!(hello, (StatusCode::OK, "Hello, world!".to_owned()));
        }
    });
    let stats = server.stop();
    // The stop request came on a connection of its own.
    assert_eq!(
        stats.connections.load(Ordering::Relaxed),
        CLIENTS as u64 + 1
    );
    assert_eq!(stats.connection_errors.load(Ordering::Relaxed), 0);
}

#[test]
fn graceful_shutdown_lets_the_request_in_progress_finish() {
    let mut server = Server::start(Options::default());
    let addr = server.addr;
    let in_progress = server.event_loop.handle().spawn(async move {
        let mut client = connect(addr).await;
        send(&mut client, Method::GET, "/blocking?ms=300", "").await
    });
    server.run(async move {
        // Wait until the server runs the job.
        let mut watcher = connect(addr).await;
        loop {
            let (_, stats) = send(&mut watcher, Method::GET, "/stats", "").await;
            let stats: serde_json::Value = serde_json::from_str(&stats).unwrap();
            if stats["blocking_jobs"] == 1 {
                break;
            }
            evloop::sleep(Duration::from_millis(5)).await;
        }
    });
    let stats = server.stop();
    // `stop` returned: the server has stopped, and the request it was
    // serving got its whole answer.
    let answer = server.run(in_progress);
    let expected = "a 300 ms job ran on a blocking thread".to_owned();
    assert_eq!(answer.unwrap(), (StatusCode::OK, expected));
    assert_eq!(stats.connection_errors.load(Ordering::Relaxed), 0);
    let refused = std::net::TcpStream::connect(addr).unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
}

/// Closes `stream` with a reset (RST) rather than an orderly FIN.
fn reset(stream: std::net::TcpStream) {
    socket2::SockRef::from(&stream)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
}

#[test]
fn clients_that_reset_their_connection_cause_no_shutdown_error() {
    let mut server = Server::start(Options::default());
    let request = b"GET / HTTP/1.1\r\nhost: evloop.test\r\n\r\n";
    for round in 0..60 {
        let mut client = std::net::TcpStream::connect(server.addr).unwrap();
        match round % 3 {
            // Reset after the answer, while the connection is kept alive.
            0 => {
                client.write_all(request).unwrap();
                let mut answer = [0; 512];
                let n = client.read(&mut answer).unwrap();
                assert!(answer[..n].starts_with(b"HTTP/1.1 200 OK"));
            }
            // Reset right after asking to close.
            1 => client
                .write_all(b"GET / HTTP/1.1\r\nhost: evloop.test\r\nconnection: close\r\n\r\n")
                .unwrap(),
            // Reset before asking anything.
            _ => {}
        }
        reset(client);
    }
    let stats = server.stop();
    assert_eq!(stats.connections.load(Ordering::Relaxed), 61);
    assert_eq!(stats.shutdown_errors.load(Ordering::Relaxed), 0);
}

#[test]
fn the_axum_router_is_served_by_evloop() {
    let event_loop = EventLoop::builder().worker_threads(2).build().unwrap();
    event_loop.run_until_complete(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let serving = evloop::spawn(axum_example::serve(listener));
        let mut client = connect(addr).await;

        let hello = send(&mut client, Method::GET, "/", "").await;
        assert_eq!(hello, (StatusCode::OK, "Hello, world!".to_owned()));

        client.ready().await.unwrap();
        let document = r#"{"list":[1,2,3],"ok":true}"#;
        let request = Request::post("/echo")
            .header("host", "evloop.test")
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from_static(document.as_bytes())))
            .unwrap();
        let response = client.send_request(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let echoed = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&echoed[..], document.as_bytes());

        let job = send(&mut client, Method::GET, "/blocking/15", "").await;
        let expected = "a 15 ms job ran on a blocking thread".to_owned();
        assert_eq!(job, (StatusCode::OK, expected));

        let (status, _) = send(&mut client, Method::POST, "/stop", "").await;
        assert_eq!(status, StatusCode::OK);
        evloop::timeout(Duration::from_secs(30), serving)
            .await
            .expect("the server did not stop")
            .unwrap();
    });
}

#[test]
fn a_thread_that_entered_the_loop_sets_up_a_hyper_server_without_running_it() {
    use hyper::rt::Executor;
    let event_loop = EventLoop::builder().worker_threads(2).build().unwrap();
    let handle = event_loop.handle();
    // A plain thread holding only the handle builds the server's parts.
    let addr = std::thread::spawn(move || {
        let _in_loop = handle.enter();
        let listener =
            TcpListener::from_std(std::net::TcpListener::bind("127.0.0.1:0").unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        evloop::hyper::HyperExecutor::current().execute(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let hello = hyper::service::service_fn(|_request| async {
                Ok::<_, std::convert::Infallible>(hyper::Response::new("entered".to_owned()))
            });
            evloop::hyper::serve_connection(stream, hello)
                .await
                .unwrap();
        });
        addr
    })
    .join()
    .unwrap();
    let mut client = std::net::TcpStream::connect(addr).unwrap();
    client
        .write_all(b"GET / HTTP/1.1\r\nhost: evloop.test\r\nconnection: close\r\n\r\n")
        .unwrap();
    let mut answer = Vec::new();
    client.read_to_end(&mut answer).unwrap();
    assert!(answer.starts_with(b"HTTP/1.1 200 OK"));
    assert!(answer.ends_with(b"entered"));
}

#[test]
fn hyper_serves_and_reads_over_a_unix_stream_pair() {
    evloop::run(async {
        let (server_side, client_side) = evloop::net::UnixStream::pair().unwrap();
        let echo = hyper::service::service_fn(|request: Request<hyper::body::Incoming>| async {
            let body = request.into_body().collect().await?.to_bytes();
            Ok::<_, hyper::Error>(hyper::Response::new(Full::new(body)))
        });
        let serving = evloop::spawn(
            hyper::server::conn::http1::Builder::new()
                .serve_connection(HyperIo::new(server_side), echo),
        );
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(HyperIo::new(client_side))
                .await
                .unwrap();
        let driving = evloop::spawn(connection);
        let payload = "x".repeat(100_000);
        let request = Request::builder()
            .method(Method::POST)
            .uri("/")
            .header("host", "evloop.test")
            .body(Full::new(Bytes::from(payload.clone())))
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body, payload.as_bytes());
        drop(sender);
        driving.await.unwrap().unwrap();
        serving.await.unwrap().unwrap();
    });
}
