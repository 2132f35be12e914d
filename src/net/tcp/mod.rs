//! TCP: [`TcpListener`] (with the [`Accept`] future and the [`Incoming`]
//! stream), [`TcpStream`], and the stream's owned halves
//! [`OwnedReadHalf`] and [`OwnedWriteHalf`].

mod listener;
mod split;
mod stream;

pub use listener::{Accept, Incoming, TcpListener};
pub use split::{OwnedReadHalf, OwnedWriteHalf};
pub use stream::TcpStream;
