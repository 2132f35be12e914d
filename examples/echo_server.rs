//! A TCP echo server on evloop: every connection gets its bytes back.
//!
//! ```text
//! cargo run --release --example echo_server [ADDR] [--for SECONDS]
//! ```
//!
//! `ADDR` defaults to 127.0.0.1:7000. With `--for`, the server stops by
//! itself after that many seconds (handy in a demo); otherwise it runs
//! until interrupted. Pair it with the `load_gen` example.

use std::io;
use std::process::ExitCode;
use std::time::Duration;

use evloop::net::{TcpListener, TcpStream};

struct Options {
    addr: String,
    run_for: Option<Duration>,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        addr: "127.0.0.1:7000".to_owned(),
        run_for: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--for" => {
                let seconds = args.next().ok_or("--for needs a number of seconds")?;
                let seconds: f64 = seconds
                    .parse()
                    .map_err(|_| format!("--for: not a number: {seconds}"))?;
                options.run_for = Some(Duration::from_secs_f64(seconds));
            }
            "-h" | "--help" => {
                return Err("usage: echo_server [ADDR] [--for SECONDS]".to_owned());
            }
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

async fn serve(listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, _peer)) => {
                // A client that resets its connection is not the server's
                // problem: the task ends with the error and nothing else.
                drop(evloop::spawn(echo(stream)));
            }
            Err(error) => {
                // Out of descriptors (EMFILE) and the like: the pending
                // connection stays in the backlog, so pause instead of
                // retrying in a tight loop, as asyncio's server does.
                eprintln!("accept failed: {error}; retrying in 100 ms");
                evloop::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

fn main() -> ExitCode {
    let options = match parse_options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    evloop::run(async move {
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
        match options.run_for {
            Some(limit) => {
                let _ = evloop::timeout(limit, serve(listener)).await;
                println!("echo server stopping after {limit:?}");
            }
            None => serve(listener).await,
        }
        ExitCode::SUCCESS
    })
}
