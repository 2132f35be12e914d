//! Loopback TCP echo, the same code on both runtimes: requests per second
//! with 1, 16 and 64 connections, each sending a 64-byte message and
//! waiting for its echo before the next, for 1.5 s per run. Server and
//! clients share the runtime under test. Beside the rate, each row has
//! the process's CPU time and context switches per request over the
//! measured window (from `getrusage`, see `echo.rs`).

use std::future::Future;
use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::echo::{Echo, EchoRun, MESSAGE_LEN};
use crate::measure::Section;
use crate::runtimes::{Evloop, Tokio};
use crate::table::Row;

/// Connection counts measured.
const CONNECTIONS: [usize; 3] = [1, 16, 64];

pub fn rows() -> Vec<Row> {
    let mut section = Section::new();
    for connections in CONNECTIONS {
        let workload = format!("TCP echo, {connections} connections, {MESSAGE_LEN} B messages");
        section.figures(
            [
                (workload.clone(), "k req/s"),
                (format!("{workload}, CPU time"), "µs/req"),
                (format!("{workload}, context switches"), "switches/req"),
            ],
            |rt| run::<Evloop>(rt, connections).figures(),
            |rt| run::<Tokio>(rt, connections).figures(),
        );
    }
    section.into_rows()
}

/// What the TCP echo needs beyond [`Echo`]: a listener on a local port.
/// The echo's socket kind here: TCP sockets.
struct TcpSocket;

trait Tcp: Echo<TcpSocket, Addr = SocketAddr> {
    fn bind(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Listener>> + Send;
    fn local_addr(listener: &Self::Listener) -> io::Result<SocketAddr>;
}

/// Implements `Echo` and `Tcp` for a runtime from its module of TCP types:
/// evloop's `net` and tokio's have the same shape (evloop's `read` and
/// `write_all` are inherent methods, tokio's come from `AsyncReadExt` and
/// `AsyncWriteExt`).
macro_rules! impl_tcp {
    ($runtime:ty, $($net:ident)::+) => {
        impl Echo<TcpSocket> for $runtime {
            type Listener = $($net)::+::TcpListener;
            type Stream = $($net)::+::TcpStream;
            type Addr = SocketAddr;

            async fn accept(listener: &$($net)::+::TcpListener) -> io::Result<$($net)::+::TcpStream> {
                Ok(listener.accept().await?.0)
            }
            fn connect(addr: SocketAddr) -> impl Future<Output = io::Result<$($net)::+::TcpStream>> + Send {
                $($net)::+::TcpStream::connect(addr)
            }
            fn prepare(stream: &$($net)::+::TcpStream) -> io::Result<()> {
                stream.set_nodelay(true)
            }
            fn read<'a>(
                stream: &'a mut $($net)::+::TcpStream,
                buf: &'a mut [u8],
            ) -> impl Future<Output = io::Result<usize>> + Send + 'a {
                stream.read(buf)
            }
            fn write_all<'a>(
                stream: &'a mut $($net)::+::TcpStream,
                buf: &'a [u8],
            ) -> impl Future<Output = io::Result<()>> + Send + 'a {
                stream.write_all(buf)
            }
        }

        impl Tcp for $runtime {
            fn bind(addr: SocketAddr) -> impl Future<Output = io::Result<$($net)::+::TcpListener>> + Send {
                $($net)::+::TcpListener::bind(addr)
            }
            fn local_addr(listener: &$($net)::+::TcpListener) -> io::Result<SocketAddr> {
                listener.local_addr()
            }
        }
    };
}

impl_tcp!(Evloop, evloop::net);
impl_tcp!(Tokio, tokio::net);

/// One run with `connections` clients on a loopback port.
fn run<R: Tcp>(rt: &R, connections: usize) -> EchoRun {
    rt.block_on(async move {
        let listener = R::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind");
        let addr = R::local_addr(&listener).expect("local address");
        crate::echo::run::<TcpSocket, R>(listener, addr, connections).await
    })
}
