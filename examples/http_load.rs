//! An HTTP/1.1 keep-alive load generator: opens N connections, each sending
//! `GET PATH` and reading the whole response before the next request, then
//! prints the request rate and the latency percentiles.
//!
//! ```text
//! cargo run --release --example http_load -- [ADDR] [--connections N]
//!     [--seconds S] [--path PATH] [--workers W]
//! ```
//!
//! `ADDR` defaults to 127.0.0.1:8080, N to 16, S to 5, PATH to `/`, W to 1
//! (the loop's worker threads). The last line of output is for scripts:
//! `requests=R seconds=S p50_us=P p99_us=Q`. The exit status is non-zero
//! if a connection failed or a response was not a 200.

use std::io;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use evloop::net::TcpStream;

const USAGE: &str =
    "usage: http_load [ADDR] [--connections N] [--seconds S] [--path PATH] [--workers W]";

struct Options {
    addr: String,
    connections: usize,
    duration: Duration,
    path: String,
    workers: usize,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        addr: "127.0.0.1:8080".to_owned(),
        connections: 16,
        duration: Duration::from_secs(5),
        path: "/".to_owned(),
        workers: 1,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--connections" | "-c" => {
                options.connections = value("--connections")?
                    .parse()
                    .map_err(|_| "--connections: not a number")?;
            }
            "--seconds" | "-s" => {
                let seconds: f64 = value("--seconds")?
                    .parse()
                    .map_err(|_| "--seconds: not a number")?;
                options.duration = Duration::from_secs_f64(seconds);
            }
            "--path" => options.path = value("--path")?,
            "--workers" => {
                options.workers = value("--workers")?
                    .parse()
                    .map_err(|_| "--workers: not a number")?;
            }
            "-h" | "--help" => return Err(USAGE.to_owned()),
            addr if !addr.starts_with('-') => options.addr = addr.to_owned(),
            other => return Err(format!("unknown option {other}\n{USAGE}")),
        }
    }
    if options.connections == 0 || options.workers == 0 {
        return Err("--connections and --workers must be at least 1".to_owned());
    }
    Ok(options)
}

/// Reads one response to its end and returns its status code; `buf`
/// holds the bytes read from the connection and not yet consumed.
async fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<u16> {
    let mut chunk = [0; 4096];
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        match stream.read(&mut chunk).await? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = std::str::from_utf8(&buf[..head_end])
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "response head is not UTF-8"))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no status code"))?;
    let body_len = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no content-length"))?;
    while buf.len() < head_end + body_len {
        match stream.read(&mut chunk).await? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => buf.extend_from_slice(&chunk[..n]),
        }
    }
    buf.drain(..head_end + body_len);
    Ok(status)
}

/// Sends requests on one connection until `deadline`; returns each
/// request's latency in microseconds.
async fn drive_connection(
    addr: String,
    request: Vec<u8>,
    deadline: Instant,
) -> io::Result<Vec<u32>> {
    let mut stream = TcpStream::connect(addr.as_str()).await?;
    stream.set_nodelay(true)?;
    let mut latencies = Vec::new();
    let mut buf = Vec::with_capacity(8192);
    while Instant::now() < deadline {
        let sent = Instant::now();
        stream.write_all(&request).await?;
        let status = read_response(&mut stream, &mut buf).await?;
        if status != 200 {
            return Err(io::Error::other(format!("status {status}")));
        }
        latencies.push(sent.elapsed().as_micros().min(u32::MAX as u128) as u32);
    }
    Ok(latencies)
}

fn percentile(sorted: &[u32], fraction: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * fraction).round() as usize]
}

fn main() -> ExitCode {
    let options = match parse_options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    let host = options.addr.clone();
    let request = format!("GET {} HTTP/1.1\r\nhost: {host}\r\n\r\n", options.path).into_bytes();
    let event_loop = match evloop::EventLoop::builder()
        .worker_threads(options.workers)
        .build()
    {
        Ok(event_loop) => event_loop,
        Err(error) => {
            eprintln!("cannot start the event loop: {error}");
            return ExitCode::FAILURE;
        }
    };
    event_loop.run_until_complete(async move {
        let start = Instant::now();
        let deadline = start + options.duration;
        let tasks: Vec<_> = (0..options.connections)
            .map(|_| {
                let addr = options.addr.clone();
                evloop::spawn(drive_connection(addr, request.clone(), deadline))
            })
            .collect();
        let mut latencies = Vec::new();
        let mut failures = 0;
        for task in tasks {
            match task.await {
                Ok(Ok(mut connection)) => latencies.append(&mut connection),
                Ok(Err(error)) => {
                    failures += 1;
                    eprintln!("connection failed: {error}");
                }
                Err(error) => {
                    failures += 1;
                    eprintln!("connection task failed: {error}");
                }
            }
        }
        let seconds = start.elapsed().as_secs_f64();
        latencies.sort_unstable();
        let requests = latencies.len();
        let (p50, p99) = (percentile(&latencies, 0.5), percentile(&latencies, 0.99));
        println!(
            "{requests} requests on {} connections in {seconds:.2} s: {:.0} requests/s, \
             latency p50 {p50} µs, p99 {p99} µs, {failures} failed connections",
            options.connections,
            requests as f64 / seconds,
        );
        println!("requests={requests} seconds={seconds:.4} p50_us={p50} p99_us={p99}");
        if failures == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    })
}
