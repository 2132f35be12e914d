//! Loopback TCP echo, evloop against tokio (both with 2 worker threads):
//! requests per second with 1, 16 and 64 connections, each sending a
//! 64-byte message and waiting for its echo before the next. Server and
//! clients share the runtime under test.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Worker threads of both runtimes.
const WORKERS: usize = 2;
/// Bytes per request.
const MESSAGE_LEN: usize = 64;
/// How long each measurement runs.
const MEASURE_FOR: Duration = Duration::from_millis(1500);
/// Connection counts measured.
const CONNECTIONS: [usize; 3] = [1, 16, 64];

mod on_evloop {
    use super::*;
    use evloop::net::{TcpListener, TcpStream};

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

    async fn echo(mut stream: TcpStream) -> io::Result<()> {
        stream.set_nodelay(true)?;
        let mut buf = [0; 4096];
        loop {
            match stream.read(&mut buf).await? {
                0 => return Ok(()),
                n => stream.write_all(&buf[..n]).await?,
            }
        }
    }

    async fn client(addr: SocketAddr, until: Instant) -> io::Result<u64> {
        let mut stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let message = [7u8; MESSAGE_LEN];
        let mut echoed = [0u8; MESSAGE_LEN];
        let mut requests = 0;
        while Instant::now() < until {
            stream.write_all(&message).await?;
            read_exact(&mut stream, &mut echoed).await?;
            requests += 1;
        }
        Ok(requests)
    }

    /// Requests per second with `connections` clients.
    pub fn echo_rate(connections: usize) -> f64 {
        let lp = evloop::EventLoop::builder()
            .worker_threads(WORKERS)
            .build()
            .expect("start an evloop loop");
        let rate = lp.run_until_complete(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let addr = listener.local_addr().expect("local address");
            let server = evloop::spawn(async move {
                for _ in 0..connections {
                    let (stream, _) = listener.accept().await.expect("accept");
                    drop(evloop::spawn(echo(stream)));
                }
            });
            let start = Instant::now();
            let until = start + MEASURE_FOR;
            let clients: Vec<_> = (0..connections)
                .map(|_| evloop::spawn(client(addr, until)))
                .collect();
            let mut requests = 0;
            for client in clients {
                requests += client.await.expect("client task").expect("client io");
            }
            server.await.expect("server task");
            requests as f64 / start.elapsed().as_secs_f64()
        });
        lp.close();
        rate
    }
}

mod on_tokio {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    async fn echo(mut stream: TcpStream) -> io::Result<()> {
        stream.set_nodelay(true)?;
        let mut buf = [0; 4096];
        loop {
            match stream.read(&mut buf).await? {
                0 => return Ok(()),
                n => stream.write_all(&buf[..n]).await?,
            }
        }
    }

    async fn client(addr: SocketAddr, until: Instant) -> io::Result<u64> {
        let mut stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let message = [7u8; MESSAGE_LEN];
        let mut echoed = [0u8; MESSAGE_LEN];
        let mut requests = 0;
        while Instant::now() < until {
            stream.write_all(&message).await?;
            stream.read_exact(&mut echoed).await?;
            requests += 1;
        }
        Ok(requests)
    }

    /// Requests per second with `connections` clients.
    pub fn echo_rate(connections: usize) -> f64 {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKERS)
            .enable_all()
            .build()
            .expect("start a tokio runtime");
        rt.block_on(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let addr = listener.local_addr().expect("local address");
            let server = tokio::spawn(async move {
                for _ in 0..connections {
                    let (stream, _) = listener.accept().await.expect("accept");
                    tokio::spawn(echo(stream));
                }
            });
            let start = Instant::now();
            let until = start + MEASURE_FOR;
            let clients: Vec<_> = (0..connections)
                .map(|_| tokio::spawn(client(addr, until)))
                .collect();
            let mut requests = 0;
            for client in clients {
                requests += client.await.expect("client task").expect("client io");
            }
            server.await.expect("server task");
            requests as f64 / start.elapsed().as_secs_f64()
        })
    }
}

/// Requests per second of the evloop echo with `connections` clients.
pub fn evloop_echo_rate(connections: usize) -> f64 {
    on_evloop::echo_rate(connections)
}

/// Requests per second of the tokio echo with `connections` clients.
pub fn tokio_echo_rate(connections: usize) -> f64 {
    on_tokio::echo_rate(connections)
}

/// The network rows: `(workload, evloop, tokio, unit)`; higher is better.
pub fn rows() -> Vec<(String, f64, f64, &'static str)> {
    CONNECTIONS
        .iter()
        .map(|&connections| {
            (
                format!("TCP echo, {connections} connections, {MESSAGE_LEN} B messages"),
                evloop_echo_rate(connections),
                tokio_echo_rate(connections),
                "req/s",
            )
        })
        .collect()
}
