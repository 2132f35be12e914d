//! `run_coroutine_threadsafe` moves the future from the calling thread into
//! the loop: it must be `Send`.

use std::rc::Rc;

fn main() {
    let lp = evloop::EventLoop::new().unwrap();
    let shared = Rc::new(1);
    let _future = lp.handle().run_coroutine_threadsafe(async move {
        evloop::yield_now().await;
        *shared
    });
}
