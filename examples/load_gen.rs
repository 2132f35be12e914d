//! A load generator for an echo server: opens N connections, each sending
//! 64-byte messages and checking that the same bytes come back, then prints
//! the request rate. It stops by itself after a duration or a count.
//!
//! ```text
//! cargo run --release --example load_gen -- [ADDR] [--connections N]
//!     [--seconds S] [--requests R]
//! ```
//!
//! `ADDR` defaults to 127.0.0.1:7000, N to 16, S to 5; with `--requests`,
//! each connection stops after R requests (whichever comes first). The exit
//! status is non-zero if a connection failed or an echo did not match.

use std::io;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use evloop::net::TcpStream;

const MESSAGE_LEN: usize = 64;

struct Options {
    addr: String,
    connections: usize,
    duration: Duration,
    requests: Option<u64>,
}

const USAGE: &str = "usage: load_gen [ADDR] [--connections N] [--seconds S] [--requests R]";

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        addr: "127.0.0.1:7000".to_owned(),
        connections: 16,
        duration: Duration::from_secs(5),
        requests: None,
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
            "--requests" | "-n" => {
                options.requests = Some(
                    value("--requests")?
                        .parse()
                        .map_err(|_| "--requests: not a number")?,
                );
            }
            "-h" | "--help" => return Err(USAGE.to_owned()),
            addr if !addr.starts_with('-') => options.addr = addr.to_owned(),
            other => return Err(format!("unknown option {other}\n{USAGE}")),
        }
    }
    if options.connections == 0 {
        return Err("--connections must be at least 1".to_owned());
    }
    Ok(options)
}

/// What one connection achieved.
struct Outcome {
    requests: u64,
    mismatches: u64,
}

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

async fn drive_connection(
    addr: String,
    id: usize,
    deadline: Instant,
    limit: Option<u64>,
) -> io::Result<Outcome> {
    let mut stream = TcpStream::connect(addr.as_str()).await?;
    stream.set_nodelay(true)?;
    let mut outcome = Outcome {
        requests: 0,
        mismatches: 0,
    };
    let mut message = [0u8; MESSAGE_LEN];
    let mut echoed = [0u8; MESSAGE_LEN];
    while Instant::now() < deadline && limit.is_none_or(|limit| outcome.requests < limit) {
        // A pattern unique to this connection and request.
        for (i, byte) in message.iter_mut().enumerate() {
            *byte = (id as u64 * 131 + outcome.requests * 7 + i as u64) as u8;
        }
        stream.write_all(&message).await?;
        read_exact(&mut stream, &mut echoed).await?;
        if echoed != message {
            outcome.mismatches += 1;
        }
        outcome.requests += 1;
    }
    Ok(outcome)
}

fn main() -> ExitCode {
    let options = match parse_options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "load_gen: {} connections to {}, 64-byte messages, for {:?}{}",
        options.connections,
        options.addr,
        options.duration,
        options
            .requests
            .map(|r| format!(" or {r} requests per connection"))
            .unwrap_or_default()
    );
    evloop::run(async move {
        let start = Instant::now();
        let deadline = start + options.duration;
        let tasks: Vec<_> = (0..options.connections)
            .map(|id| {
                evloop::spawn(drive_connection(
                    options.addr.clone(),
                    id,
                    deadline,
                    options.requests,
                ))
            })
            .collect();
        let mut requests = 0;
        let mut mismatches = 0;
        let mut failures = 0;
        for task in tasks {
            match task.await {
                Ok(Ok(outcome)) => {
                    requests += outcome.requests;
                    mismatches += outcome.mismatches;
                }
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
        let elapsed = start.elapsed().as_secs_f64();
        println!(
            "{requests} requests in {elapsed:.2} s: {:.0} requests/s, {mismatches} mismatched echoes, \
             {failures} failed connections",
            requests as f64 / elapsed
        );
        if mismatches == 0 && failures == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    })
}
