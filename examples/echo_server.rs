//! A TCP echo server on evloop: every connection gets its bytes back.
//!
//! ```text
//! cargo run --release --example echo_server [ADDR] [--for SECONDS] [--grace SECONDS]
//! ```
//!
//! `ADDR` defaults to 127.0.0.1:7000. With `--for`, the server stops by
//! itself after that many seconds (handy in a demo); otherwise it runs
//! until SIGTERM or Ctrl-C. Pair it with the `load_gen` example.
//!
//! Stopping is graceful: the server stops accepting (new connections are
//! refused), lets the connections in flight finish for up to `--grace`
//! seconds (10 by default), cuts the ones still open after that, closes
//! the loop and exits with status 0.

use std::io;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use evloop::net::{TcpListener, TcpStream};
use evloop::signal::{SIGINT, SIGTERM, Signals};
use evloop::{ReturnWhen, Task};

/// The tasks of the connections accepted so far (finished ones are pruned
/// at each accept).
type Connections = Arc<Mutex<Vec<Task<io::Result<()>>>>>;

struct Options {
    addr: String,
    run_for: Option<Duration>,
    grace: Duration,
}

const USAGE: &str = "usage: echo_server [ADDR] [--for SECONDS] [--grace SECONDS]";

fn seconds(flag: &str, value: Option<String>) -> Result<Duration, String> {
    let value = value.ok_or(format!("{flag} needs a number of seconds"))?;
    let seconds: f64 = value
        .parse()
        .map_err(|_| format!("{flag}: not a number: {value}"))?;
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("{flag}: not a duration: {value}"))
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        addr: "127.0.0.1:7000".to_owned(),
        run_for: None,
        grace: Duration::from_secs(10),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--for" => options.run_for = Some(seconds("--for", args.next())?),
            "--grace" => options.grace = seconds("--grace", args.next())?,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            addr => options.addr = addr.to_owned(),
        }
    }
    Ok(options)
}

async fn echo(mut stream: TcpStream) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut buf = vec![0; 16 * 1024];
    loop {
        match stream.read(&mut buf).await? {
            0 => return Ok(()),
            n => stream.write_all(&buf[..n]).await?,
        }
    }
}

async fn serve(listener: TcpListener, connections: Connections) {
    loop {
        match listener.accept().await {
            Ok((stream, _peer)) => {
                // A client that resets its connection is not the server's
                // problem: the task ends with the error and nothing else.
                let task = evloop::spawn(echo(stream));
                let mut connections = connections.lock().unwrap();
                connections.retain(|task| !task.done());
                connections.push(task);
            }
            Err(error) => {
                // Out of descriptors (EMFILE) and the like: the pending
                // connection stays in the backlog, so pause instead of
                // retrying in a tight loop, as asyncio's server does.
                eprintln!("accept failed: {error}; retrying in 100 ms");
                evloop::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Waits for SIGTERM or SIGINT (or the `--for` time limit) and says which.
async fn stop_requested(signals: &mut Signals, run_for: Option<Duration>) -> String {
    let name = |signal| {
        if signal == SIGTERM {
            "SIGTERM"
        } else {
            "SIGINT"
        }
    };
    match run_for {
        Some(limit) => match evloop::timeout(limit, signals.recv()).await {
            Ok(signal) => name(signal.unwrap_or(SIGTERM)).to_owned(),
            Err(_) => format!("ran for {limit:?}"),
        },
        None => name(signals.recv().await.unwrap_or(SIGTERM)).to_owned(),
    }
}

/// Serves until asked to stop, then shuts down gracefully.
async fn run(listener: TcpListener, mut signals: Signals, options: Options) -> ExitCode {
    let connections = Connections::default();
    let accepting = evloop::spawn(serve(listener, connections.clone()));

    let reason = stop_requested(&mut signals, options.run_for).await;
    // Cancelling the accept loop drops the listener: new connections are
    // refused from here on.
    accepting.cancel();
    let _ = accepting.await;
    let in_flight: Vec<_> = std::mem::take(&mut *connections.lock().unwrap());
    let in_flight: Vec<_> = in_flight.into_iter().filter(|t| !t.done()).collect();
    println!(
        "echo server stopping ({reason}): no longer accepting; waiting up to {:?} for {} \
         connection(s)",
        options.grace,
        in_flight.len()
    );
    if let Ok((_done, cut)) =
        evloop::wait(in_flight, ReturnWhen::AllCompleted, Some(options.grace)).await
    {
        if !cut.is_empty() {
            println!(
                "closing {} connection(s) still open at the deadline",
                cut.len()
            );
            cut.iter().for_each(|task| {
                task.cancel();
            });
        }
    }
    println!("echo server stopped");
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let options = match parse_options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    // `evloop::run` closes the loop once `run` returns.
    evloop::run(async move {
        // Catch the signals before announcing the server, so that none
        // sent once it is announced is missed.
        let signals = match Signals::new(&[SIGTERM, SIGINT]) {
            Ok(signals) => signals,
            Err(error) => {
                eprintln!("cannot catch SIGTERM/SIGINT: {error}");
                return ExitCode::FAILURE;
            }
        };
        let listener = match TcpListener::bind(&options.addr).await {
            Ok(listener) => listener,
            Err(error) => {
                eprintln!("cannot listen on {}: {error}", options.addr);
                return ExitCode::FAILURE;
            }
        };
        match listener.local_addr() {
            Ok(addr) => println!("echo server listening on {addr}"),
            Err(error) => eprintln!("listening, but the local address is unknown: {error}"),
        }
        run(listener, signals, options).await
    })
}
