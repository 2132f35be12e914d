//! `evloop::sync::Event`: wait, set, clear.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::Poll;

use evloop::EventLoop;
use evloop::sync::Event;

/// Polls a future exactly once from inside a task.
async fn poll_once<F: Future>(mut future: Pin<&mut F>) -> Poll<F::Output> {
    poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx))).await
}

#[test]
fn wait_returns_at_once_when_the_flag_is_set() {
    evloop::run(async {
        let event = Event::new();
        event.set();
        assert!(event.is_set());
        event.wait().await;
    });
}

#[test]
fn set_wakes_every_waiter() {
    evloop::run(async {
        let event = Event::new();
        let mut waiters: Vec<_> = (0..3).map(|_| Box::pin(event.wait())).collect();
        for waiter in &mut waiters {
            assert!(poll_once(waiter.as_mut()).await.is_pending());
        }
        event.set();
        for waiter in &mut waiters {
            assert!(poll_once(waiter.as_mut()).await.is_ready());
        }
    });
}

#[test]
fn clear_makes_later_waiters_wait_but_not_those_already_woken() {
    evloop::run(async {
        let event = Event::new();
        let mut woken = Box::pin(event.wait());
        assert!(poll_once(woken.as_mut()).await.is_pending());
        event.set();
        event.clear();
        assert!(!event.is_set());
        // Woken by `set`: it completes although the flag is clear again.
        assert!(poll_once(woken.as_mut()).await.is_ready());
        let mut later = Box::pin(event.wait());
        assert!(poll_once(later.as_mut()).await.is_pending());
        event.set();
        assert!(poll_once(later.as_mut()).await.is_ready());
    });
}

#[test]
fn a_dropped_waiter_does_not_disturb_the_others() {
    evloop::run(async {
        let event = Event::new();
        let mut dropped = Box::pin(event.wait());
        let mut kept = Box::pin(event.wait());
        assert!(poll_once(dropped.as_mut()).await.is_pending());
        assert!(poll_once(kept.as_mut()).await.is_pending());
        drop(dropped);
        event.set();
        assert!(poll_once(kept.as_mut()).await.is_ready());
    });
}

#[test]
fn set_from_one_worker_wakes_tasks_on_others() {
    let event_loop = EventLoop::builder().worker_threads(2).build().unwrap();
    event_loop.run_until_complete(async {
        let event = Event::new();
        let waiters: Vec<_> = (0..16)
            .map(|_| {
                let event = event.clone();
                evloop::spawn(async move { event.wait().await })
            })
            .collect();
        evloop::spawn({
            let event = event.clone();
            async move { event.set() }
        })
        .await
        .unwrap();
        for waiter in waiters {
            waiter.await.unwrap();
        }
    });
    event_loop.close();
}

#[test]
fn set_from_a_plain_thread_wakes_a_task() {
    evloop::run(async {
        let event = Event::new();
        let setter = std::thread::spawn({
            let event = event.clone();
            move || event.set()
        });
        event.wait().await;
        setter.join().unwrap();
    });
}

#[test]
fn a_waiter_whose_waker_panics_does_not_keep_later_waiters_asleep() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Wake, Waker};

    struct PanickingWaker;
    impl Wake for PanickingWaker {
        fn wake(self: Arc<Self>) {
            panic!("this waker is broken");
        }
    }
    #[derive(Default)]
    struct CountingWaker(AtomicUsize);
    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    let event = Event::new();
    let broken = Waker::from(Arc::new(PanickingWaker));
    let counter = Arc::new(CountingWaker::default());
    let counting = Waker::from(counter.clone());
    let mut first = Box::pin(event.wait());
    let mut later = Box::pin(event.wait());
    let mut broken_cx = Context::from_waker(&broken);
    assert!(first.as_mut().poll(&mut broken_cx).is_pending());
    let mut counting_cx = Context::from_waker(&counting);
    assert!(later.as_mut().poll(&mut counting_cx).is_pending());

    event.set(); // the broken waker's panic stays inside `set`

    assert_eq!(
        counter.0.load(Ordering::SeqCst),
        1,
        "the later waiter was woken"
    );
    assert!(later.as_mut().poll(&mut counting_cx).is_ready());
    assert!(first.as_mut().poll(&mut broken_cx).is_ready());
}
