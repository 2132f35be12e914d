//! Socket addresses: [`ToSocketAddrs`] and name resolution.
//!
//! Resolving a host name is a blocking call into the system's resolver, so
//! it runs on the loop's blocking pool (as `loop.getaddrinfo` does in
//! asyncio); an address that is already an IP and a port never leaves the
//! task that asked.

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// What the sockets of [`evloop::net`](crate::net) accept as an address:
/// the same types as [`std::net::ToSocketAddrs`] (a [`SocketAddr`], an
/// `(ip, port)` pair, `"host:port"`, `("host", port)`, a slice of
/// addresses).
///
/// Host names are resolved on the loop's blocking pool, so a slow resolver
/// never stalls a worker; IP literals are parsed in place.
///
/// The trait is sealed: its one method is evloop's own business.
///
/// # Examples
///
/// ```
/// use evloop::net::TcpListener;
///
/// evloop::run(async {
///     let by_name = TcpListener::bind("localhost:0").await?;
///     let by_pair = TcpListener::bind(("127.0.0.1", 0)).await?;
///     let by_addr = TcpListener::bind(std::net::SocketAddr::from(([127, 0, 0, 1], 0))).await?;
///     assert!(by_name.local_addr()?.ip().is_loopback());
///     assert!(by_pair.local_addr()?.ip().is_loopback());
///     assert!(by_addr.local_addr()?.ip().is_loopback());
///     Ok::<_, std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub trait ToSocketAddrs: sealed::Sealed {}

mod sealed {
    use super::Addrs;

    pub trait Sealed {
        /// The addresses at once, or the name to look up.
        fn to_addrs(&self) -> Addrs;
    }
}

/// An address as given: ready to use, or a name the resolver must look up.
#[derive(Debug)]
pub enum Addrs {
    Ready(Vec<SocketAddr>),
    /// A `"host:port"` string for the system resolver.
    Lookup(String),
}

macro_rules! ready_addrs {
    ($($ty:ty),*) => {$(
        impl ToSocketAddrs for $ty {}
        impl sealed::Sealed for $ty {
            fn to_addrs(&self) -> Addrs {
                Addrs::Ready(vec![SocketAddr::from(*self)])
            }
        }
    )*};
}

ready_addrs!(
    SocketAddr,
    SocketAddrV4,
    SocketAddrV6,
    (IpAddr, u16),
    (Ipv4Addr, u16),
    (Ipv6Addr, u16),
    ([u8; 4], u16),
    ([u16; 8], u16)
);

impl ToSocketAddrs for str {}
impl sealed::Sealed for str {
    fn to_addrs(&self) -> Addrs {
        match self.parse::<SocketAddr>() {
            Ok(addr) => Addrs::Ready(vec![addr]),
            Err(_) => Addrs::Lookup(self.to_owned()),
        }
    }
}

impl ToSocketAddrs for String {}
impl sealed::Sealed for String {
    fn to_addrs(&self) -> Addrs {
        self.as_str().to_addrs()
    }
}

impl ToSocketAddrs for (&str, u16) {}
impl sealed::Sealed for (&str, u16) {
    fn to_addrs(&self) -> Addrs {
        let (host, port) = *self;
        match host.parse::<IpAddr>() {
            Ok(ip) => Addrs::Ready(vec![SocketAddr::new(ip, port)]),
            // An IPv6 host must be bracketed to be read back as "host:port".
            Err(_) if host.contains(':') => Addrs::Lookup(format!("[{host}]:{port}")),
            Err(_) => Addrs::Lookup(format!("{host}:{port}")),
        }
    }
}

impl ToSocketAddrs for (String, u16) {}
impl sealed::Sealed for (String, u16) {
    fn to_addrs(&self) -> Addrs {
        (self.0.as_str(), self.1).to_addrs()
    }
}

impl ToSocketAddrs for [SocketAddr] {}
impl sealed::Sealed for [SocketAddr] {
    fn to_addrs(&self) -> Addrs {
        Addrs::Ready(self.to_vec())
    }
}

impl ToSocketAddrs for Vec<SocketAddr> {}
impl sealed::Sealed for Vec<SocketAddr> {
    fn to_addrs(&self) -> Addrs {
        Addrs::Ready(self.clone())
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: sealed::Sealed + ?Sized> sealed::Sealed for &T {
    fn to_addrs(&self) -> Addrs {
        (**self).to_addrs()
    }
}

/// Resolves `addr` into its list of socket addresses; a host name is
/// looked up on the blocking pool of the current loop.
pub(crate) async fn resolve(addr: &(impl ToSocketAddrs + ?Sized)) -> io::Result<Vec<SocketAddr>> {
    let addrs = match addr.to_addrs() {
        Addrs::Ready(addrs) => addrs,
        Addrs::Lookup(name) => {
            let lookup = crate::to_thread(move || {
                std::net::ToSocketAddrs::to_socket_addrs(&name).map(Iterator::collect::<Vec<_>>)
            });
            lookup.await.map_err(|error| {
                io::Error::other(format!("the name lookup did not finish: {error}"))
            })??
        }
    };
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the address resolved to no socket address",
        ));
    }
    Ok(addrs)
}

/// Tries `attempt` on each address in turn, returning the first success or
/// the last error.
pub(crate) async fn each_addr<T, F, Fut>(addr: impl ToSocketAddrs, mut attempt: F) -> io::Result<T>
where
    F: FnMut(SocketAddr) -> Fut,
    Fut: Future<Output = io::Result<T>>,
{
    let mut last_error = None;
    for addr in resolve(&addr).await? {
        match attempt(addr).await {
            Ok(value) => return Ok(value),
            Err(error) => last_error = Some(error),
        }
    }
    Err(last_error.unwrap_or_else(|| io::Error::other("no address to try")))
}

#[cfg(test)]
mod tests {
    use super::sealed::Sealed;
    use super::*;

    fn ready(addr: &(impl ToSocketAddrs + ?Sized)) -> Option<Vec<SocketAddr>> {
        match addr.to_addrs() {
            Addrs::Ready(addrs) => Some(addrs),
            Addrs::Lookup(_) => None,
        }
    }

    #[test]
    fn ip_literals_are_parsed_without_a_lookup() {
        let v4: SocketAddr = "127.0.0.1:80".parse().unwrap();
        let v6: SocketAddr = "[::1]:80".parse().unwrap();
        assert_eq!(ready("127.0.0.1:80"), Some(vec![v4]));
        assert_eq!(ready(&String::from("[::1]:80")), Some(vec![v6]));
        assert_eq!(ready(&("127.0.0.1", 80)), Some(vec![v4]));
        assert_eq!(ready(&("::1", 80)), Some(vec![v6]));
        assert_eq!(ready(&v4), Some(vec![v4]));
        assert_eq!(ready(&([127, 0, 0, 1], 80)), Some(vec![v4]));
        assert_eq!(ready(&[v4, v6][..]), Some(vec![v4, v6]));
    }

    #[test]
    fn host_names_go_to_the_resolver() {
        assert!(matches!("localhost:80".to_addrs(), Addrs::Lookup(name) if name == "localhost:80"));
        assert!(
            matches!(("localhost", 80).to_addrs(), Addrs::Lookup(name) if name == "localhost:80")
        );
    }

    #[test]
    fn a_name_is_resolved_on_the_blocking_pool() {
        let addrs = crate::run(async { resolve("localhost:80").await }).unwrap();
        assert!(
            addrs
                .iter()
                .all(|addr| addr.ip().is_loopback() && addr.port() == 80)
        );
        let error = crate::run(async { resolve("no port here").await }).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
    }
}
