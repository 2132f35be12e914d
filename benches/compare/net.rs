//! Loopback TCP echo, the same code on both runtimes: requests per second
//! with 1, 16 and 64 connections, each sending a 64-byte message and
//! waiting for its echo before the next, for 1.5 s per run. Server and
//! clients share the runtime under test.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::measure::Section;
use crate::runtimes::{Evloop, Runtime, Tokio};
use crate::table::Row;

/// Bytes per request.
const MESSAGE_LEN: usize = 64;
/// How long each run sends requests.
const MEASURE_FOR: Duration = Duration::from_millis(1500);
/// Connection counts measured.
const CONNECTIONS: [usize; 3] = [1, 16, 64];

pub fn rows() -> Vec<Row> {
    let mut section = Section::new();
    for connections in CONNECTIONS {
        section.figures(
            [(
                format!("TCP echo, {connections} connections, {MESSAGE_LEN} B messages"),
                "k req/s",
            )],
            |rt| [seconds_per_request::<Evloop>(rt, connections)],
            |rt| [seconds_per_request::<Tokio>(rt, connections)],
        );
    }
    section.into_rows()
}

/// The TCP calls of a runtime, as the workload uses them.
trait Tcp: Runtime {
    type Listener: Send + Sync + 'static;
    type Stream: Send + 'static;

    fn bind(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Listener>> + Send;
    fn local_addr(listener: &Self::Listener) -> io::Result<SocketAddr>;
    fn accept(listener: &Self::Listener)
    -> impl Future<Output = io::Result<Self::Stream>> + Send + '_;
    fn connect(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Stream>> + Send;
    fn set_nodelay(stream: &Self::Stream) -> io::Result<()>;
    fn read<'a>(
        stream: &'a mut Self::Stream,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + Send + 'a;
    fn write_all<'a>(
        stream: &'a mut Self::Stream,
        buf: &'a [u8],
    ) -> impl Future<Output = io::Result<()>> + Send + 'a;
}

/// Implements `Tcp` for a runtime from its module of TCP types: evloop's
/// `net` and tokio's have the same shape (evloop's `read` and `write_all`
/// are inherent methods, tokio's come from `AsyncReadExt` and
/// `AsyncWriteExt`).
macro_rules! impl_tcp {
    ($runtime:ty, $($net:ident)::+) => {
        impl Tcp for $runtime {
            type Listener = $($net)::+::TcpListener;
            type Stream = $($net)::+::TcpStream;

            fn bind(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Listener>> + Send {
                Self::Listener::bind(addr)
            }
            fn local_addr(listener: &Self::Listener) -> io::Result<SocketAddr> {
                listener.local_addr()
            }
            async fn accept(listener: &Self::Listener) -> io::Result<Self::Stream> {
                Ok(listener.accept().await?.0)
            }
            fn connect(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Stream>> + Send {
                Self::Stream::connect(addr)
            }
            fn set_nodelay(stream: &Self::Stream) -> io::Result<()> {
                stream.set_nodelay(true)
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

impl_tcp!(Evloop, evloop::net);
impl_tcp!(Tokio, tokio::net);

async fn read_exact<R: Tcp>(stream: &mut R::Stream, buf: &mut [u8]) -> io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        match R::read(stream, &mut buf[filled..]).await? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => filled += n,
        }
    }
    Ok(())
}

async fn echo<R: Tcp>(mut stream: R::Stream) -> io::Result<()> {
    R::set_nodelay(&stream)?;
    let mut buf = [0; 4096];
    loop {
        match R::read(&mut stream, &mut buf).await? {
            0 => return Ok(()),
            n => R::write_all(&mut stream, &buf[..n]).await?,
        }
    }
}

/// Requests one client made until `until`.
async fn client<R: Tcp>(addr: SocketAddr, until: Instant) -> io::Result<u64> {
    let mut stream = R::connect(addr).await?;
    R::set_nodelay(&stream)?;
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

/// One run with `connections` clients: seconds per request, the clients'
/// connecting included.
fn seconds_per_request<R: Tcp>(rt: &R, connections: usize) -> f64 {
    rt.block_on(async move {
        let listener = R::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind");
        let addr = R::local_addr(&listener).expect("local address");
        let server = R::spawn(async move {
            for _ in 0..connections {
                let stream = R::accept(&listener).await.expect("accept");
                drop(R::spawn(echo::<R>(stream)));
            }
        });
        let start = Instant::now();
        let until = start + MEASURE_FOR;
        let clients: Vec<_> = (0..connections)
            .map(|_| R::spawn(client::<R>(addr, until)))
            .collect();
        let mut requests = 0;
        for client in clients {
            requests += client.await.expect("client task").expect("client io");
        }
        server.await.expect("server task");
        start.elapsed().as_secs_f64() / requests as f64
    })
}
