//! The OS surface, the same code on both runtimes: spawning and waiting for
//! 1 000 `true` processes one after the other (evloop's `process` against
//! `tokio::process`), and a Unix-socket echo with 16 connections (evloop's
//! `UnixStream` against tokio's), 64-byte messages, 1.5 s per run.

use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::echo::{Echo, MESSAGE_LEN, seconds_per_request};
use crate::measure::Section;
use crate::runtimes::{Evloop, Tokio};
use crate::table::Row;

/// Processes per run.
const PROCESSES: usize = 1000;
/// Connections of the echo.
const CONNECTIONS: usize = 16;

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
        |rt| [unix_echo::<Evloop>(rt)],
        |rt| [unix_echo::<Tokio>(rt)],
    );
    section.into_rows()
}

/// What the workloads need beyond [`Echo`]: a child process, and a Unix
/// listener at a path.
/// The echo's socket kind here: Unix stream sockets.
struct UnixSocket;

trait Os: Echo<UnixSocket, Addr = PathBuf> {
    fn run_true() -> impl Future<Output = io::Result<()>> + Send;
    fn bind(path: &Path) -> io::Result<Self::Listener>;
}

/// Implements `Echo` and `Os` from a runtime's `process` and `net` modules,
/// which have the same shape (evloop's `read` and `write_all` are inherent
/// methods, tokio's come from `AsyncReadExt` and `AsyncWriteExt`).
macro_rules! impl_os {
    ($runtime:ty, $($process:ident)::+, $($net:ident)::+) => {
        impl Echo<UnixSocket> for $runtime {
            type Listener = $($net)::+::UnixListener;
            type Stream = $($net)::+::UnixStream;
            type Addr = PathBuf;

            async fn accept(listener: &$($net)::+::UnixListener) -> io::Result<$($net)::+::UnixStream> {
                Ok(listener.accept().await?.0)
            }
            fn connect(path: PathBuf) -> impl Future<Output = io::Result<$($net)::+::UnixStream>> + Send {
                $($net)::+::UnixStream::connect(path)
            }
            fn prepare(_stream: &$($net)::+::UnixStream) -> io::Result<()> {
                Ok(())
            }
            fn read<'a>(
                stream: &'a mut $($net)::+::UnixStream,
                buf: &'a mut [u8],
            ) -> impl Future<Output = io::Result<usize>> + Send + 'a {
                stream.read(buf)
            }
            fn write_all<'a>(
                stream: &'a mut $($net)::+::UnixStream,
                buf: &'a [u8],
            ) -> impl Future<Output = io::Result<()>> + Send + 'a {
                stream.write_all(buf)
            }
        }

        impl Os for $runtime {
            async fn run_true() -> io::Result<()> {
                let status = $($process)::+::Command::new("true").spawn()?.wait().await?;
                assert!(status.success());
                Ok(())
            }
            fn bind(path: &Path) -> io::Result<$($net)::+::UnixListener> {
                $($net)::+::UnixListener::bind(path)
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

/// One echo run over a socket file in a fresh directory.
fn unix_echo<R: Os>(rt: &R) -> f64 {
    let dir = std::env::temp_dir().join(format!("evloop-bench-uds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("socket directory");
    let path = dir.join("echo.sock");
    let _ = std::fs::remove_file(&path);
    let per_request = rt.block_on(async {
        let listener = R::bind(&path).expect("bind");
        seconds_per_request::<UnixSocket, R>(listener, path.clone(), CONNECTIONS).await
    });
    let _ = std::fs::remove_dir_all(&dir);
    per_request
}
