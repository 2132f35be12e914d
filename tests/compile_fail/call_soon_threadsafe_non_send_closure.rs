//! `call_soon_threadsafe` runs the callback on a worker thread: a closure
//! owning an `Rc` cannot be given to it.

use std::rc::Rc;

fn main() {
    let lp = evloop::EventLoop::new().unwrap();
    let shared = Rc::new(1);
    let _callback = lp.handle().call_soon_threadsafe(move || {
        let _ = *shared;
    });
}
