//! The OS surface, the same code on both runtimes: spawning and waiting for
//! 1 000 `true` processes one after the other (evloop's `process` against
//! `tokio::process`), and a Unix-socket echo with 16 connections (evloop's
//! `UnixStream` against tokio's), 64-byte messages, 1.5 s per run.

use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::measure::Section;
use crate::runtimes::{Evloop, Runtime, Tokio};
use crate::table::Row;

/// Processes per run.
const PROCESSES: usize = 1000;
/// Connections of the echo.
const CONNECTIONS: usize = 16;
/// Bytes per request.
const MESSAGE_LEN: usize = 64;
/// How long each echo run sends requests.
const MEASURE_FOR: Duration = Duration::from_millis(1500);

pub fn rows() -> Vec<Row> {
    let mut section = Section::new();
    section.time(
        format!("spawn + wait {PROCESSES} `true` processes"),
        "ms",
        spawn_and_wait::<Evloop>,
        spawn_and_wait::<Tokio>,
    );
    section.figures(
        [(
            format!("Unix socket echo, {CONNECTIONS} connections, {MESSAGE_LEN} B messages"),
            "k req/s",
        )],
        |rt| [seconds_per_request::<Evloop>(rt)],
        |rt| [seconds_per_request::<Tokio>(rt)],
    );
    section.into_rows()
}

/// The process and Unix-socket calls of a runtime, as the workloads use
/// them.
trait Os: Runtime {
    type Listener: Send + Sync + 'static;
    type Stream: Send + 'static;

    fn run_true() -> impl Future<Output = io::Result<()>> + Send;
    fn bind(path: &Path) -> io::Result<Self::Listener>;
    fn accept(listener: &Self::Listener)
    -> impl Future<Output = io::Result<Self::Stream>> + Send + '_;
    fn connect(path: PathBuf) -> impl Future<Output = io::Result<Self::Stream>> + Send;
    fn read<'a>(
        stream: &'a mut Self::Stream,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + Send + 'a;
    fn write_all<'a>(
        stream: &'a mut Self::Stream,
        buf: &'a [u8],
    ) -> impl Future<Output = io::Result<()>> + Send + 'a;
}

/// Implements `Os` from a runtime's `process` and `net` modules, which have
/// the same shape (evloop's `read` and `write_all` are inherent methods,
/// tokio's come from `AsyncReadExt` and `AsyncWriteExt`).
macro_rules! impl_os {
    ($runtime:ty, $($process:ident)::+, $($net:ident)::+) => {
        impl Os for $runtime {
            type Listener = $($net)::+::UnixListener;
            type Stream = $($net)::+::UnixStream;

            async fn run_true() -> io::Result<()> {
                let status = $($process)::+::Command::new("true").spawn()?.wait().await?;
                assert!(status.success());
                Ok(())
            }
            fn bind(path: &Path) -> io::Result<Self::Listener> {
                Self::Listener::bind(path)
            }
            async fn accept(listener: &Self::Listener) -> io::Result<Self::Stream> {
                Ok(listener.accept().await?.0)
            }
            fn connect(path: PathBuf) -> impl Future<Output = io::Result<Self::Stream>> + Send {
                Self::Stream::connect(path)
            }
            fn read<'a>(
                stream: &'a mut Self::Stream,
                buf: &'a mut [u8],
            ) -> impl Future<Output = io::Result<usize>> + Send + 'a {
                stream.read(buf)
            }
            fn write_all<'a>(
                stream: &'a mut Self::Stream,
                buf: &'a [u8],
            ) -> impl Future<Output = io::Result<()>> + Send + 'a {
                stream.write_all(buf)
            }
        }
    };
}

impl_os!(Evloop, evloop::process, evloop::net);
impl_os!(Tokio, tokio::process, tokio::net);

/// One run: `PROCESSES` children, each spawned and waited for in turn.
fn spawn_and_wait<R: Os>(rt: &R) -> Duration {
    rt.block_on(async {
        let start = Instant::now();
        for _ in 0..PROCESSES {
            R::run_true().await.expect("run `true`");
        }
        start.elapsed()
    })
}

async fn read_exact<R: Os>(stream: &mut R::Stream, buf: &mut [u8]) -> io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        match R::read(stream, &mut buf[filled..]).await? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => filled += n,
        }
    }
    Ok(())
}

async fn echo<R: Os>(mut stream: R::Stream) -> io::Result<()> {
    let mut buf = [0; 4096];
    loop {
        match R::read(&mut stream, &mut buf).await? {
            0 => return Ok(()),
            n => R::write_all(&mut stream, &buf[..n]).await?,
        }
    }
}

/// Requests one client made until `until`.
async fn client<R: Os>(path: PathBuf, until: Instant) -> io::Result<u64> {
    let mut stream = R::connect(path).await?;
    let message = [7u8; MESSAGE_LEN];
    let mut echoed = [0u8; MESSAGE_LEN];
    let mut requests = 0;
    while Instant::now() < until {
        R::write_all(&mut stream, &message).await?;
        read_exact::<R>(&mut stream, &mut echoed).await?;
        requests += 1;
    }
    Ok(requests)
}

/// One echo run: seconds per request, the clients' connecting included.
fn seconds_per_request<R: Os>(rt: &R) -> f64 {
    let dir = std::env::temp_dir().join(format!("evloop-bench-uds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("socket directory");
    let path = dir.join("echo.sock");
    let _ = std::fs::remove_file(&path);
    let per_request = rt.block_on(async {
        let listener = R::bind(&path).expect("bind");
        let server = R::spawn(async move {
            for _ in 0..CONNECTIONS {
                let stream = R::accept(&listener).await.expect("accept");
                drop(R::spawn(echo::<R>(stream)));
            }
        });
        let start = Instant::now();
        let until = start + MEASURE_FOR;
        let clients: Vec<_> = (0..CONNECTIONS)
            .map(|_| R::spawn(client::<R>(path.clone(), until)))
            .collect();
        let mut requests = 0;
        for client in clients {
            requests += client.await.expect("client task").expect("client io");
        }
        server.await.expect("server task");
        start.elapsed().as_secs_f64() / requests as f64
    });
    let _ = std::fs::remove_dir_all(&dir);
    per_request
}
