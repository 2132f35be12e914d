//! The tour: every scenario of the asyncio tutorials, run for real on
//! evloop and timed, with the time it should take printed beside the time it
//! took; then an echo server under load.
//!
//! ```text
//! cargo run --release --example tour
//! ```
//!
//! One "unit" is 100 ms (the tutorials use seconds), so the tour runs in
//! seconds. Each line says what asyncio code it mirrors.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use evloop::{EventLoop, Handle, ReturnWhen, TaskError};

/// The tutorials' second.
const UNIT: Duration = Duration::from_millis(100);

fn units(n: f64) -> Duration {
    UNIT.mul_f64(n)
}

/// `async def hello(n): await asyncio.sleep(n); return n`
async fn sleep_units(n: u32) -> u32 {
    evloop::sleep(units(f64::from(n))).await;
    n
}

/// One row of the report.
struct Scenario {
    name: &'static str,
    expected: Duration,
    took: Duration,
    detail: String,
}

impl Scenario {
    /// Within a generous margin of the expected time (the machine may be busy).
    fn on_time(&self) -> bool {
        let slack = UNIT / 2 + self.expected / 5;
        self.took + slack >= self.expected && self.took <= self.expected + slack
    }
}

/// Runs one scenario and times it.
fn timed(
    report: &mut Vec<Scenario>,
    name: &'static str,
    expected: Duration,
    scenario: impl FnOnce() -> String,
) {
    let start = Instant::now();
    let detail = scenario();
    let row = Scenario {
        name,
        expected,
        took: start.elapsed(),
        detail,
    };
    println!(
        "{:<46} expected {:>6.2} units  took {:>6.2} units  {}  {}",
        row.name,
        row.expected.as_secs_f64() / UNIT.as_secs_f64(),
        row.took.as_secs_f64() / UNIT.as_secs_f64(),
        if row.on_time() { "ok  " } else { "SLOW" },
        row.detail
    );
    report.push(row);
}

fn main() -> ExitCode {
    let lp = match EventLoop::new() {
        Ok(lp) => lp,
        Err(err) => {
            eprintln!("could not start the event loop: {err}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "evloop tour: asyncio's tutorial scenarios, 1 unit = {} ms\n",
        UNIT.as_millis()
    );
    let mut report = Vec::new();

    // results = await asyncio.gather(hello(1), hello(2), hello(4))
    timed(
        &mut report,
        "gather(1, 2, 4): concurrent, not 7",
        units(4.0),
        || {
            let results = lp
                .run_until_complete(evloop::gather([
                    sleep_units(1),
                    sleep_units(2),
                    sleep_units(4),
                ]))
                .expect("no child fails");
            format!("results {results:?}")
        },
    );

    // await hello(1); await hello(2)   — one after the other
    timed(
        &mut report,
        "await in sequence: 1 then 2",
        units(3.0),
        || {
            lp.run_until_complete(async {
                let a = sleep_units(1).await;
                let b = sleep_units(2).await;
                format!("results [{a}, {b}]")
            })
        },
    );

    // t1 = create_task(hello(1)); t2 = create_task(hello(2)); await t1; await t2
    timed(
        &mut report,
        "create_task then await: 1 and 2",
        units(2.0),
        || {
            lp.run_until_complete(async {
                let t1 = evloop::spawn(sleep_units(1));
                let t2 = evloop::spawn(sleep_units(2));
                let (a, b) = (t1.await.unwrap(), t2.await.unwrap());
                format!("results [{a}, {b}]")
            })
        },
    );

    // done, pending = await asyncio.wait({h(2), h(3), h(4)}, return_when=FIRST_COMPLETED)
    timed(
        &mut report,
        "wait FIRST_COMPLETED of 2, 3, 4",
        units(2.0),
        || {
            lp.run_until_complete(async {
                let tasks = [2, 3, 4].map(|n| evloop::spawn(sleep_units(n)));
                let (done, pending) = evloop::wait(tasks, ReturnWhen::FirstCompleted, None)
                    .await
                    .expect("tasks given");
                let finished: Vec<u32> = done
                    .into_iter()
                    .map(|mut t| t.try_result().unwrap().unwrap())
                    .collect();
                let left = pending.len();
                for task in pending {
                    task.cancel();
                }
                format!("done {finished:?}, {left} pending (cancelled)")
            })
        },
    );

    // done, pending = await asyncio.wait(tasks, timeout=2)
    timed(
        &mut report,
        "wait with a timeout of 2 on 1, 3, 5",
        units(2.0),
        || {
            lp.run_until_complete(async {
                let tasks = [1, 3, 5].map(|n| evloop::spawn(sleep_units(n)));
                let (done, pending) =
                    evloop::wait(tasks, ReturnWhen::AllCompleted, Some(units(2.0)))
                        .await
                        .expect("tasks given");
                let (done, left) = (done.len(), pending.len());
                for task in pending {
                    task.cancel();
                }
                format!("{done} done, {left} still pending at the timeout")
            })
        },
    );

    // await asyncio.wait_for(eternity(), timeout=3)
    timed(
        &mut report,
        "wait_for(eternity(), 3) times out",
        units(3.0),
        || {
            lp.run_until_complete(async {
                let cleaned_up = Arc::new(AtomicBool::new(false));
                let flag = cleaned_up.clone();
                let eternity = async move {
                    let _cleanup = OnDrop::new(move || flag.store(true, Ordering::SeqCst));
                    evloop::sleep(Duration::from_secs(3600)).await;
                };
                let outcome = evloop::wait_for(eternity, units(3.0)).await;
                format!(
                    "{}; the eternal coroutine was dropped: {}",
                    match outcome {
                        Ok(()) => "finished?".to_owned(),
                        Err(err) => format!("TimeoutError ({err})"),
                    },
                    cleaned_up.load(Ordering::SeqCst)
                )
            })
        },
    );

    // for coro in asyncio.as_completed({h(5), h(3), h(4)}): print(await coro)
    timed(&mut report, "as_completed of 5, 3, 4", units(5.0), || {
        lp.run_until_complete(async {
            let tasks = [5, 3, 4].map(|n| evloop::spawn(sleep_units(n)));
            let mut order = Vec::new();
            let mut completed = evloop::as_completed(tasks, None);
            while let Some(result) = completed.next().await {
                order.push(result.expect("no task fails"));
            }
            format!("completion order {order:?}")
        })
    });

    // task = create_task(cancel_me()); await sleep(1); task.cancel()
    timed(
        &mut report,
        "cancel a sleeping task; its cleanup runs",
        units(1.0),
        || {
            lp.run_until_complete(async {
                let log = Arc::new(Mutex::new(Vec::new()));
                let task_log = log.clone();
                let task = evloop::spawn(async move {
                    task_log.lock().unwrap().push("cancel_me(): before sleep");
                    let _finally = OnDrop::new({
                        let log = task_log.clone();
                        move || {
                            log.lock()
                                .unwrap()
                                .push("cancel_me(): cleanup after cancel")
                        }
                    });
                    evloop::sleep(Duration::from_secs(3600)).await;
                });
                evloop::sleep(units(1.0)).await;
                task.cancel();
                let cancelled = task
                    .await
                    .err()
                    .is_some_and(|e: TaskError| e.is_cancelled());
                let log = log.lock().unwrap().join(" / ");
                format!("cancelled: {cancelled}; {log}")
            })
        },
    );

    // task.add_done_callback(callback)
    timed(
        &mut report,
        "add_done_callback on hello(10, 5)",
        units(3.0),
        || {
            lp.run_until_complete(async {
                let (tx, rx) = mpsc::channel();
                let task = evloop::spawn(async {
                    evloop::sleep(units(3.0)).await;
                    10 + 5
                });
                task.add_done_callback(move |t| {
                    tx.send(format!("callback saw {} done", t.name())).unwrap()
                });
                let value = task.await.unwrap();
                format!("result {value}; {}", rx.recv().unwrap())
            })
        },
    );

    // await loop.run_in_executor(None, blocking_io) beside asyncio.sleep
    timed(
        &mut report,
        "run_in_executor: 3 blocking 2s + async 2",
        units(2.0),
        || {
            lp.run_until_complete(async {
                let handle = Handle::current();
                let blocking: Vec<_> = (0..3)
                    .map(|i| {
                        handle.run_in_executor(move || {
                            std::thread::sleep(units(2.0));
                            i
                        })
                    })
                    .collect();
                let nap = evloop::spawn(sleep_units(2));
                let mut done = Vec::new();
                for job in blocking {
                    done.push(job.await.unwrap());
                }
                nap.await.unwrap();
                format!("blocking jobs {done:?} ran beside the loop's tasks")
            })
        },
    );

    // A loop running forever in another thread, fed from the main thread:
    // new_loop = new_event_loop(); Thread(target=new_loop.run_forever).start()
    // run_coroutine_threadsafe(do_some_work(n), new_loop).result()
    timed(
        &mut report,
        "run_forever thread + run_coroutine_threadsafe",
        units(3.0),
        || {
            let other = EventLoop::builder()
                .worker_threads(2)
                .thread_name("tour-forever")
                .build()
                .expect("a second loop starts");
            let handle = other.handle();
            let runner = std::thread::spawn(move || {
                other.run_forever();
                other
            });
            let futures: Vec<_> = [1, 2, 3]
                .map(|n| handle.run_coroutine_threadsafe(sleep_units(n)))
                .into_iter()
                .collect();
            let results: Vec<u32> = futures.into_iter().map(|f| f.result().unwrap()).collect();
            handle.stop();
            runner.join().expect("runner thread").close();
            format!("results {results:?} collected with result() on the main thread")
        },
    );

    // loop.call_soon_threadsafe(callback, n) from a plain thread
    timed(
        &mut report,
        "call_soon_threadsafe from a plain thread",
        Duration::ZERO,
        || {
            let handle = lp.handle();
            let (tx, rx) = mpsc::channel();
            let worker = std::thread::spawn(move || {
                for n in 0..5 {
                    let tx = tx.clone();
                    handle.call_soon_threadsafe(move || tx.send(n).unwrap());
                }
            });
            worker.join().expect("submitting thread");
            let order: Vec<i32> = (0..5).map(|_| rx.recv().unwrap()).collect();
            format!("callbacks ran in submission order {order:?}")
        },
    );

    println!();
    let served = echo_server_under_load(&lp);
    lp.close();

    let slow = report.iter().filter(|r| !r.on_time()).count();
    println!(
        "\n{} scenarios, {} on time{}",
        report.len(),
        report.len() - slow,
        if slow > 0 {
            " (a busy machine can slow a few down)"
        } else {
            ""
        }
    );
    if served {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// asyncio's `start_server` echo, with 64 clients hammering it for a second.
fn echo_server_under_load(lp: &EventLoop) -> bool {
    const CLIENTS: usize = 64;
    const RUN_FOR: Duration = Duration::from_secs(1);
    lp.run_until_complete(async {
        let server = evloop::start_server(
            |mut reader, writer| async move {
                while let Ok(line) = reader.readline().await {
                    if line.is_empty() {
                        break;
                    }
                    writer.write(&line);
                    if writer.drain().await.is_err() {
                        break;
                    }
                }
                writer.close();
            },
            "127.0.0.1:0",
        )
        .await
        .expect("the echo server binds");
        let addr = server.local_addr();
        println!("echo server (asyncio start_server) on {addr}, {CLIENTS} clients for {RUN_FOR:?}");

        let requests = Arc::new(AtomicU64::new(0));
        let deadline = Instant::now() + RUN_FOR;
        let clients: Vec<_> = (0..CLIENTS)
            .map(|client| {
                let requests = requests.clone();
                evloop::spawn(async move {
                    let (mut reader, writer) = evloop::open_connection(addr).await?;
                    let message = format!("client {client:02} says hello over evloop ......\n");
                    while Instant::now() < deadline {
                        writer.write(message.as_bytes());
                        writer.drain().await?;
                        let echoed = reader.readline().await?;
                        if echoed != message.as_bytes() {
                            return Err(std::io::Error::other("echo mismatch"));
                        }
                        requests.fetch_add(1, Ordering::Relaxed);
                    }
                    writer.close();
                    Ok::<_, std::io::Error>(())
                })
            })
            .collect();
        let start = Instant::now();
        let outcomes = evloop::gather_settled(
            clients
                .into_iter()
                .map(|t| async move { t.await.map_err(std::io::Error::from).and_then(|r| r) }),
        )
        .await;
        let elapsed = start.elapsed();
        server.close();
        server.wait_closed().await;
        let failed = outcomes.iter().filter(|o| !matches!(o, Ok(Ok(())))).count();
        let total = requests.load(Ordering::Relaxed);
        println!(
            "{total} echoed requests in {:.2} s: {:.0} requests/s, {failed} failed clients",
            elapsed.as_secs_f64(),
            total as f64 / elapsed.as_secs_f64()
        );
        println!(
            "(standalone: cargo run --release --example echo_server, then \
             cargo run --release --example load_gen -- --connections 64)"
        );
        failed == 0
    })
}

/// Runs a closure when dropped: a `finally` block.
struct OnDrop<F: FnOnce()>(Option<F>);

impl<F: FnOnce()> OnDrop<F> {
    fn new(f: F) -> OnDrop<F> {
        OnDrop(Some(f))
    }
}

impl<F: FnOnce()> Drop for OnDrop<F> {
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            f();
        }
    }
}
