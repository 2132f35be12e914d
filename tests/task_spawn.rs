//! Spawning: many tasks, from many threads, with names.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, mpsc};

use common::event_loop;

#[test]
fn hundred_thousand_tasks_all_complete() {
    let lp = event_loop(2, "spawn100k");
    let polled = Arc::new(AtomicUsize::new(0));
    let counter = polled.clone();
    let sum = lp.run_until_complete(async move {
        let tasks: Vec<_> = (0..100_000u64)
            .map(|i| {
                let counter = counter.clone();
                evloop::spawn(async move {
                    counter.fetch_add(1, Ordering::Relaxed);
                    i
                })
            })
            .collect();
        let mut sum = 0;
        for task in tasks {
            sum += task.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, (0..100_000u64).sum::<u64>());
    assert_eq!(polled.load(Ordering::Relaxed), 100_000);
}

#[test]
fn tasks_spawned_from_eight_foreign_threads_all_run() {
    let lp = event_loop(2, "spawn8");
    let handle = lp.handle();
    let ran = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(Barrier::new(8));
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let (handle, ran, start) = (handle.clone(), ran.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                (0..1_000)
                    .map(|i| {
                        let ran = ran.clone();
                        handle.spawn(async move {
                            ran.fetch_add(1, Ordering::Relaxed);
                            t * 1_000 + i
                        })
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let tasks: Vec<_> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let results: HashSet<usize> = lp.run_until_complete(async move {
        let mut out = HashSet::new();
        for task in tasks {
            out.insert(task.await.unwrap());
        }
        out
    });
    assert_eq!(results.len(), 8_000);
    assert_eq!(ran.load(Ordering::Relaxed), 8_000);
}

#[test]
fn tasks_spawned_from_tasks_run_on_the_workers() {
    let lp = event_loop(2, "spawnnest");
    let names = lp.run_until_complete(async {
        let task = evloop::spawn(async {
            evloop::spawn(async { std::thread::current().name().map(str::to_owned) })
                .await
                .unwrap()
        });
        task.await.unwrap()
    });
    assert!(names.unwrap().starts_with("spawnnest-worker-"));
}

#[test]
fn unnamed_tasks_are_numbered_and_named_tasks_keep_their_name() {
    evloop::run(async {
        let a = evloop::spawn(async {});
        let b = evloop::spawn(async {});
        assert_eq!(a.name(), format!("Task-{}", a.id()));
        assert!(b.id() > a.id());
        let named = evloop::task::TaskBuilder::new()
            .name("fetch")
            .spawn(async { evloop::current_task().unwrap().name().into_owned() });
        assert_eq!(named.name(), "fetch");
        assert_eq!(named.await.unwrap(), "fetch");
    });
}

#[test]
#[allow(deprecated)]
fn the_old_task_builder_name_still_spawns_named_tasks() {
    evloop::run(async {
        let named = evloop::task::Builder::new().name("old").spawn(async { 1 });
        assert_eq!(named.name(), "old");
        assert_eq!(named.await.unwrap(), 1);
    });
}

#[test]
fn the_old_task_module_paths_still_spawn_and_list_tasks() {
    evloop::run(async {
        // The task waits for the listing, so it is still alive in it.
        let listed = evloop::sync::Event::new();
        let task = evloop::task::spawn({
            let listed = listed.clone();
            async move {
                listed.wait().await;
                evloop::task::current_task().map(|t| t.id())
            }
        });
        let id = task.id();
        assert!(evloop::task::all_tasks().iter().any(|t| t.id() == id));
        listed.set();
        assert_eq!(task.await.unwrap(), Some(id));
    });
}

#[test]
fn current_task_is_the_running_task_and_none_outside() {
    assert!(evloop::current_task().is_none());
    evloop::run(async {
        assert!(
            evloop::current_task().is_none(),
            "the main future is not a task"
        );
        let task = evloop::spawn(async { evloop::current_task().unwrap().id() });
        let id = task.id();
        assert_eq!(task.await.unwrap(), id);
    });
}

#[test]
fn all_tasks_lists_live_tasks_only() {
    evloop::run(async {
        let (release_tx, release_rx) = oneshot_pair();
        let waiting = evloop::task::TaskBuilder::new()
            .name("waiting")
            .spawn(async move {
                let _ = release_rx.await;
            });
        let finished = evloop::spawn(async {});
        let finished_id = finished.id();
        finished.await.unwrap();
        let live = evloop::all_tasks();
        assert!(live.iter().any(|t| t.name() == "waiting"));
        assert!(live.iter().all(|t| t.id() != finished_id));
        release_tx.send(()).unwrap();
        waiting.await.unwrap();
        assert!(evloop::all_tasks().iter().all(|t| t.name() != "waiting"));
    });
    assert!(evloop::all_tasks().is_empty(), "empty outside a loop");
}

#[test]
fn a_dropped_task_handle_detaches_and_the_task_still_runs() {
    let lp = event_loop(2, "detach");
    let (tx, rx) = mpsc::channel();
    drop(lp.handle().spawn(async move { tx.send(7).unwrap() }));
    assert_eq!(rx.recv().unwrap(), 7);
}

#[test]
fn try_result_gives_the_value_once_done() {
    let lp = event_loop(1, "tryres");
    let (tx, rx) = mpsc::channel::<()>();
    let mut task = lp.handle().spawn(async move { 5 });
    task.add_done_callback(move |_| tx.send(()).unwrap());
    rx.recv().unwrap();
    assert!(task.done());
    assert_eq!(task.try_result().unwrap().unwrap(), 5);
    assert!(task.try_result().is_none(), "the result was taken");
}

#[test]
fn done_callbacks_run_once_in_order_and_at_once_when_already_done() {
    let lp = event_loop(2, "donecb");
    let (tx, rx) = mpsc::channel();
    let (gate_tx, gate_rx) = oneshot_pair();
    let task = lp.handle().spawn(async move {
        let _ = gate_rx.await;
    });
    for i in 0..3 {
        let tx = tx.clone();
        task.add_done_callback(move |t| tx.send((i, t.done())).unwrap());
    }
    gate_tx.send(()).unwrap();
    let got: Vec<_> = (0..3).map(|_| rx.recv().unwrap()).collect();
    assert_eq!(got, vec![(0, true), (1, true), (2, true)]);
    let tx2 = tx.clone();
    task.add_done_callback(move |_| tx2.send((3, true)).unwrap());
    assert_eq!(
        rx.try_recv().unwrap(),
        (3, true),
        "ran at once on this thread"
    );
    drop(tx);
    assert!(rx.recv().is_err(), "no callback ran twice");
}

/// A one-shot channel whose receiver is a future.
fn oneshot_pair() -> (oneshot::Sender<()>, oneshot::Receiver<()>) {
    oneshot::channel()
}
