//! The echo workload of the TCP and Unix-socket sections, written once:
//! `connections` clients each send a 64-byte message and wait for its
//! echo before the next, for 1.5 s, against a server on the same runtime.

use std::future::Future;
use std::io;
use std::time::{Duration, Instant};

use crate::runtimes::Runtime;

/// Bytes per request.
pub const MESSAGE_LEN: usize = 64;
/// How long each run sends requests.
const MEASURE_FOR: Duration = Duration::from_millis(1500);

/// The stream calls of a runtime for one kind of socket `S` (a marker
/// type of the section), as the echo uses them; each section implements it
/// with a macro over the runtime's module.
pub trait Echo<S>: Runtime {
    type Listener: Send + Sync + 'static;
    type Stream: Send + 'static;
    /// Where the clients connect.
    type Addr: Clone + Send + 'static;

    fn accept(
        listener: &Self::Listener,
    ) -> impl Future<Output = io::Result<Self::Stream>> + Send + '_;
    fn connect(addr: Self::Addr) -> impl Future<Output = io::Result<Self::Stream>> + Send;
    /// Sets up a new connection on either side (`TCP_NODELAY`, say).
    fn prepare(stream: &Self::Stream) -> io::Result<()>;
    fn read<'a>(
        stream: &'a mut Self::Stream,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + Send + 'a;
    fn write_all<'a>(
        stream: &'a mut Self::Stream,
        buf: &'a [u8],
    ) -> impl Future<Output = io::Result<()>> + Send + 'a;
}

/// One run, inside the runtime's `block_on`: serves `connections` clients
/// on `listener`, which they reach at `addr`; returns seconds per request,
/// the clients' connecting included.
pub async fn seconds_per_request<S: 'static, R: Echo<S>>(
    listener: R::Listener,
    addr: R::Addr,
    connections: usize,
) -> f64 {
    run::<S, R>(listener, addr, connections).await.figures()[0]
}

/// What the process has used so far, from `getrusage(RUSAGE_SELF)`.
#[derive(Debug, Clone, Copy)]
struct Usage {
    cpu_seconds: f64,
    context_switches: i64,
}

impl Usage {
    fn now() -> Usage {
        // SAFETY: `rusage` is plain old data, valid when zeroed.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `usage` is a valid, writable `rusage` for the call.
        let status = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
        assert_eq!(status, 0, "getrusage: {}", io::Error::last_os_error());
        let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
        Usage {
            cpu_seconds: seconds(usage.ru_utime) + seconds(usage.ru_stime),
            context_switches: usage.ru_nvcsw + usage.ru_nivcsw,
        }
    }
}

/// One echo run: its requests, wall time and resource use. The resource
/// use is the process's (`RUSAGE_SELF`) over the measured window: only
/// the runtime under test is busy then (the other one's threads sleep).
pub struct EchoRun {
    requests: u64,
    seconds: f64,
    start: Usage,
    end: Usage,
}

impl EchoRun {
    /// [seconds per request, CPU seconds (user + system) per request,
    /// context switches (voluntary + involuntary) per request].
    pub fn figures(&self) -> [f64; 3] {
        let requests = self.requests as f64;
        [
            self.seconds / requests,
            (self.end.cpu_seconds - self.start.cpu_seconds) / requests,
            (self.end.context_switches - self.start.context_switches) as f64 / requests,
        ]
    }
}

/// Like [`seconds_per_request`], with the run's resource use.
pub async fn run<S: 'static, R: Echo<S>>(
    listener: R::Listener,
    addr: R::Addr,
    connections: usize,
) -> EchoRun {
    let server = R::spawn(async move {
        for _ in 0..connections {
            let stream = R::accept(&listener).await.expect("accept");
            drop(R::spawn(echo::<S, R>(stream)));
        }
    });
    let start_usage = Usage::now();
    let start = Instant::now();
    let until = start + MEASURE_FOR;
    let clients: Vec<_> = (0..connections)
        .map(|_| R::spawn(client::<S, R>(addr.clone(), until)))
        .collect();
    let mut requests = 0;
    for client in clients {
        requests += client.await.expect("client task").expect("client io");
    }
    server.await.expect("server task");
    let seconds = start.elapsed().as_secs_f64();
    EchoRun {
        requests,
        seconds,
        start: start_usage,
        end: Usage::now(),
    }
}

async fn read_exact<S, R: Echo<S>>(stream: &mut R::Stream, buf: &mut [u8]) -> io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        match R::read(stream, &mut buf[filled..]).await? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => filled += n,
        }
    }
    Ok(())
}

async fn echo<S: 'static, R: Echo<S>>(mut stream: R::Stream) -> io::Result<()> {
    R::prepare(&stream)?;
    let mut buf = [0; 4096];
    loop {
        match R::read(&mut stream, &mut buf).await? {
            0 => return Ok(()),
            n => R::write_all(&mut stream, &buf[..n]).await?,
        }
    }
}

/// Requests one client made until `until`.
async fn client<S: 'static, R: Echo<S>>(addr: R::Addr, until: Instant) -> io::Result<u64> {
    let mut stream = R::connect(addr).await?;
    R::prepare(&stream)?;
    let message = [7u8; MESSAGE_LEN];
    let mut echoed = [0u8; MESSAGE_LEN];
    let mut requests = 0;
    while Instant::now() < until {
        R::write_all(&mut stream, &message).await?;
        read_exact::<S, R>(&mut stream, &mut echoed).await?;
        requests += 1;
    }
    Ok(requests)
}
