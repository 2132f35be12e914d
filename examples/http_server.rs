//! An HTTP/1.1 server with hyper on evloop.
//!
//! ```text
//! cargo run --release --features hyper --example http_server [ADDR] [--workers N]
//! ```
//!
//! `ADDR` defaults to 127.0.0.1:8080; `--workers` to the number of CPUs.
//! Routes:
//!
//! | route             | answer                                                      |
//! |-------------------|-------------------------------------------------------------|
//! | `GET /`           | `Hello, world!`                                             |
//! | `POST /echo`      | the JSON document of the request body, or 400 if it is not JSON |
//! | `GET /blocking?ms=N` | runs a blocking job of N ms (at most 10 s) on the blocking pool through `to_thread` |
//! | `GET /stats`      | the server's counters, as JSON                               |
//! | `POST /stop`      | stops the server gracefully                                  |
//!
//! Connections are kept alive between requests; a client must send a
//! request's head within the header-read timeout (10 s) or the connection
//! is closed. On stop (`POST /stop`, SIGTERM or Ctrl-C), the server stops
//! accepting, lets every request in progress finish, and closes each
//! connection after its last response; connections still open after the
//! shutdown deadline (10 s) are closed with the loop, and the process
//! exits 0.
//!
//! The server itself is [`serve`], which the integration tests call too.

use std::convert::Infallible;
use std::future::{Future, poll_fn};
use std::pin::pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use evloop::hyper::{GracefulShutdown, HyperIo, http1_builder};
use evloop::net::TcpListener;
use evloop::signal::{SIGINT, SIGTERM, Signals};
use evloop::sync::Event;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::CONTENT_TYPE;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};

/// The largest request body `/echo` accepts.
const MAX_BODY: usize = 64 * 1024;
/// The longest job `/blocking` runs.
const MAX_JOB: Duration = Duration::from_secs(10);

/// How the server behaves.
#[derive(Debug, Clone)]
pub struct Options {
    /// How long a client may take to send a request's head.
    pub header_read_timeout: Duration,
    /// How long the requests in progress may take to finish once the
    /// server stops; `serve` returns when they have, or at this deadline.
    pub shutdown_deadline: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            header_read_timeout: Duration::from_secs(10),
            shutdown_deadline: Duration::from_secs(10),
        }
    }
}

/// The server's counters (the `/stats` route shows them).
#[derive(Debug, Default)]
pub struct Stats {
    /// Connections accepted.
    pub connections: AtomicU64,
    /// Requests answered.
    pub requests: AtomicU64,
    /// Blocking jobs running now.
    pub blocking_jobs: AtomicU64,
    /// Connections that ended with an error (a header-read timeout, a
    /// malformed request, a reset during a response...).
    pub connection_errors: AtomicU64,
    /// Of those, the errors hyper met while closing a connection.
    pub shutdown_errors: AtomicU64,
}

impl Stats {
    fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "connections": self.connections.load(Ordering::Relaxed),
            "requests": self.requests.load(Ordering::Relaxed),
            "blocking_jobs": self.blocking_jobs.load(Ordering::Relaxed),
            "connection_errors": self.connection_errors.load(Ordering::Relaxed),
            "shutdown_errors": self.shutdown_errors.load(Ordering::Relaxed),
        })
    }
}

/// What every request handler shares.
struct App {
    stats: Arc<Stats>,
    /// Set by `POST /stop`.
    stop: Event,
}

type Body = Full<Bytes>;

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, "text/plain; charset=utf-8".parse().unwrap());
    response
}

fn json(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(value.to_string())));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, "application/json".parse().unwrap());
    response
}

async fn route(app: Arc<App>, request: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let response = match (request.method(), request.uri().path()) {
        (&Method::GET, "/") => text(StatusCode::OK, "Hello, world!"),
        (&Method::POST, "/echo") => echo(request).await,
        (&Method::GET, "/blocking") => blocking_job(&app, request.uri().query()).await,
        (&Method::GET, "/stats") => json(StatusCode::OK, &app.stats.to_json()),
        (&Method::POST, "/stop") => {
            app.stop.set();
            text(StatusCode::OK, "stopping")
        }
        _ => text(StatusCode::NOT_FOUND, "no such route"),
    };
    app.stats.requests.fetch_add(1, Ordering::Relaxed);
    Ok(response)
}

/// Answers with the request's JSON document.
async fn echo(request: Request<Incoming>) -> Response<Body> {
    let body = match Limited::new(request.into_body(), MAX_BODY).collect().await {
        Ok(body) => body.to_bytes(),
        Err(error) => {
            let message = format!("cannot read the body: {error}");
            return json(
                StatusCode::BAD_REQUEST,
                &serde_json::json!({ "error": message }),
            );
        }
    };
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(document) => json(StatusCode::OK, &document),
        Err(error) => {
            let message = format!("the body is not JSON: {error}");
            json(
                StatusCode::BAD_REQUEST,
                &serde_json::json!({ "error": message }),
            )
        }
    }
}

/// Runs a job that blocks its thread for `ms=N` milliseconds on the
/// blocking pool, leaving the workers free for other requests.
async fn blocking_job(app: &App, query: Option<&str>) -> Response<Body> {
    let millis = query
        .unwrap_or("")
        .split('&')
        .find_map(|pair| pair.strip_prefix("ms="))
        .map(str::parse::<u64>);
    let length = match millis {
        Some(Ok(millis)) if Duration::from_millis(millis) <= MAX_JOB => {
            Duration::from_millis(millis)
        }
        _ => return text(StatusCode::BAD_REQUEST, "expected ?ms=N, N at most 10000"),
    };
    app.stats.blocking_jobs.fetch_add(1, Ordering::Relaxed);
    let job = evloop::to_thread(move || {
        std::thread::sleep(length);
        format!("a {} ms job ran on a blocking thread", length.as_millis())
    });
    let outcome = job.await;
    app.stats.blocking_jobs.fetch_sub(1, Ordering::Relaxed);
    match outcome {
        Ok(message) => text(StatusCode::OK, message),
        Err(error) => text(StatusCode::INTERNAL_SERVER_ERROR, error.to_string()),
    }
}

/// Resolves when either future does.
async fn either(first: impl Future<Output = ()>, second: impl Future<Output = ()>) {
    let (mut first, mut second) = (pin!(first), pin!(second));
    poll_fn(|cx| {
        if first.as_mut().poll(cx).is_ready() || second.as_mut().poll(cx).is_ready() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await
}

/// Serves HTTP/1.1 on `listener` until `POST /stop` or until `shutdown`
/// resolves, then stops gracefully: no new connection is accepted, the
/// requests in progress are answered, and the connections close (those
/// still open at the shutdown deadline are left to the loop's close).
/// Returns the server's counters.
pub async fn serve(
    listener: TcpListener,
    options: Options,
    shutdown: impl Future<Output = ()>,
) -> Arc<Stats> {
    let app = Arc::new(App {
        stats: Arc::new(Stats::default()),
        stop: Event::new(),
    });
    let mut http = http1_builder();
    http.keep_alive(true)
        .header_read_timeout(options.header_read_timeout);
    let graceful = GracefulShutdown::new();

    let stop = app.stop.clone();
    let mut stopping = pin!(either(stop.wait(), shutdown));
    loop {
        let accepted = poll_fn(|cx| match stopping.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(None),
            Poll::Pending => listener.poll_accept(cx).map(Some),
        })
        .await;
        let stream = match accepted {
            None => break,
            Some(Ok((stream, _peer))) => stream,
            Some(Err(error)) => {
                // Out of file descriptors, most likely: give the open
                // connections time to end rather than spin.
                eprintln!("accept failed: {error}");
                evloop::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        app.stats.connections.fetch_add(1, Ordering::Relaxed);
        let _ = stream.set_nodelay(true);
        let handler = app.clone();
        let service = service_fn(move |request| route(handler.clone(), request));
        let connection = graceful.watch(http.serve_connection(HyperIo::new(stream), service));
        let stats = app.stats.clone();
        drop(evloop::spawn(async move {
            if let Err(error) = connection.await {
                stats.connection_errors.fetch_add(1, Ordering::Relaxed);
                if error.is_shutdown() {
                    stats.shutdown_errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    drop(listener);
    if evloop::timeout(options.shutdown_deadline, graceful.shutdown())
        .await
        .is_err()
    {
        eprintln!("connections still open at the shutdown deadline are closed with the loop");
    }
    app.stats.clone()
}

fn main() -> ExitCode {
    let mut addr = "127.0.0.1:8080".to_owned();
    let mut workers = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--workers" => match args.next().map(|n| n.parse::<usize>()) {
                Some(Ok(n)) if n > 0 => workers = Some(n),
                _ => {
                    eprintln!("--workers needs a positive number");
                    return ExitCode::FAILURE;
                }
            },
            "-h" | "--help" => {
                eprintln!("usage: http_server [ADDR] [--workers N]");
                return ExitCode::SUCCESS;
            }
            other => addr = other.to_owned(),
        }
    }
    let mut builder = evloop::EventLoop::builder();
    if let Some(workers) = workers {
        builder = builder.worker_threads(workers);
    }
    let event_loop = match builder.build() {
        Ok(event_loop) => event_loop,
        Err(error) => {
            eprintln!("cannot start the event loop: {error}");
            return ExitCode::FAILURE;
        }
    };
    event_loop.run_until_complete(async move {
        let listener = match TcpListener::bind(addr.as_str()).await {
            Ok(listener) => listener,
            Err(error) => {
                eprintln!("cannot listen on {addr}: {error}");
                return ExitCode::FAILURE;
            }
        };
        // Caught from before the first connection, so a SIGTERM always
        // stops the server gracefully.
        let mut signals = match Signals::new(&[SIGTERM, SIGINT]) {
            Ok(signals) => signals,
            Err(error) => {
                eprintln!("cannot catch SIGTERM/SIGINT: {error}");
                return ExitCode::FAILURE;
            }
        };
        println!("listening on http://{}", listener.local_addr().unwrap());
        // Besides `POST /stop`, what stops the server.
        let shutdown = async move {
            let _ = signals.recv().await;
        };
        let stats = serve(listener, Options::default(), shutdown).await;
        println!("stopped: {}", stats.to_json());
        ExitCode::SUCCESS
    })
}
