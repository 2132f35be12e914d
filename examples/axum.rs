//! An axum application served by evloop, through hyper, with axum's tokio
//! feature off (`axum = { default-features = false, features = ["json",
//! "http1"] }`): evloop accepts the connections, hyper speaks HTTP/1.1,
//! hyper-util's `TowerToHyperService` turns the axum `Router` (a tower
//! `Service`) into a hyper service.
//!
//! ```text
//! cargo run --release --features hyper --example axum [ADDR]
//! ```
//!
//! `ADDR` defaults to 127.0.0.1:8081. Routes: `GET /` (hello world),
//! `POST /echo` (a JSON document back), `GET /blocking/{ms}` (a blocking job
//! on the pool through `to_thread`), `POST /stop` (graceful stop).
//!
//! The server itself is [`serve`], which the integration tests call too.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::process::ExitCode;
use std::task::Poll;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use evloop::hyper::{GracefulShutdown, HyperIo, http1_builder};
use evloop::net::TcpListener;
use evloop::sync::Event;
use hyper_util::service::TowerToHyperService;

/// The application: its routes, sharing the stop flag.
pub fn app(stop: Event) -> Router {
    Router::new()
        .route("/", get(|| async { "Hello, world!" }))
        .route("/echo", post(echo))
        .route("/blocking/{ms}", get(blocking_job))
        .route("/stop", post(request_stop))
        .with_state(stop)
}

async fn echo(Json(document): Json<serde_json::Value>) -> Json<serde_json::Value> {
    Json(document)
}

async fn blocking_job(Path(millis): Path<u64>) -> Result<String, (StatusCode, String)> {
    if millis > 10_000 {
        return Err((StatusCode::BAD_REQUEST, "at most 10000 ms".to_owned()));
    }
    let job = evloop::to_thread(move || std::thread::sleep(Duration::from_millis(millis)));
    match job.await {
        Ok(()) => Ok(format!("a {millis} ms job ran on a blocking thread")),
        Err(error) => Err((StatusCode::INTERNAL_SERVER_ERROR, error.to_string())),
    }
}

async fn request_stop(State(stop): State<Event>) -> &'static str {
    stop.set();
    "stopping"
}

/// Serves [`app`] on `listener` until `POST /stop`, then lets the open
/// connections finish their requests and returns.
pub async fn serve(listener: TcpListener) {
    let stop = Event::new();
    let service = TowerToHyperService::new(app(stop.clone()));
    let graceful = GracefulShutdown::new();
    let mut stopping = pin!(stop.wait());
    loop {
        let accepted = poll_fn(|cx| match stopping.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(None),
            Poll::Pending => listener.poll_accept(cx).map(Some),
        })
        .await;
        match accepted {
            None => break,
            Some(Ok((stream, _peer))) => {
                let connection =
                    http1_builder().serve_connection(HyperIo::new(stream), service.clone());
                drop(evloop::spawn(graceful.watch(connection)));
            }
            Some(Err(error)) => {
                eprintln!("accept failed: {error}");
                evloop::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    drop(listener);
    graceful.shutdown().await;
}

fn main() -> ExitCode {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8081".to_owned());
    evloop::run(async move {
        let listener = match TcpListener::bind(addr.as_str()).await {
            Ok(listener) => listener,
            Err(error) => {
                eprintln!("cannot listen on {addr}: {error}");
                return ExitCode::FAILURE;
            }
        };
        println!("listening on http://{}", listener.local_addr().unwrap());
        serve(listener).await;
        ExitCode::SUCCESS
    })
}
