//! Model 6: `call_soon_threadsafe` racing the loop's close.
//!
//! One thread submits two callbacks, another closes the queue, and the
//! drainer (started by whichever submission asked for it) runs on the main
//! thread. In every interleaving each callback runs exactly once or is
//! reported refused, never both and never neither, and the ones that ran
//! ran in submission order.
#![cfg(loom)]

use evloop::bridge::loom_hooks::CallSoonQueue;
use loom::sync::{Arc, Mutex};
use loom::thread;

#[test]
fn each_callback_runs_exactly_once_or_is_refused() {
    loom::model(|| {
        let queue = CallSoonQueue::new();
        let ran = Arc::new(Mutex::new(Vec::new()));

        let submitting = {
            let queue = queue.clone();
            let ran = ran.clone();
            thread::spawn(move || {
                let mut handles = Vec::new();
                let mut drainers = Vec::new();
                for i in 0..2 {
                    let ran = ran.clone();
                    let (handle, drainer) = queue.submit(move || ran.lock().unwrap().push(i));
                    handles.push(handle);
                    drainers.extend(drainer);
                }
                (handles, drainers)
            })
        };
        let closing = {
            let queue = queue.clone();
            thread::spawn(move || queue.close())
        };

        let (handles, drainers) = submitting.join().unwrap();
        assert!(drainers.len() <= 1, "two drainers for one queue");
        for drainer in drainers {
            drainer.drain_all();
        }
        closing.join().unwrap();

        let ran = ran.lock().unwrap().clone();
        for (i, handle) in handles.iter().enumerate() {
            let did_run = ran.contains(&i);
            assert_eq!(did_run, handle.started(), "callback {i}: ran vs started");
            assert_ne!(
                did_run,
                handle.is_loop_closed(),
                "callback {i}: ran and refused"
            );
        }
        assert!(ran.windows(2).all(|w| w[0] < w[1]), "out of order: {ran:?}");
    });
}
