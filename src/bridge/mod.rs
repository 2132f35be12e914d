//! The thread-loop bridge: submitting work into a loop from any thread.

mod callback;

pub use callback::CallbackHandle;
