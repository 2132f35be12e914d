//! UDP: datagrams between sockets, connected sockets, shared sockets.

use std::io;
use std::sync::Arc;

use evloop::EventLoop;
use evloop::net::UdpSocket;

fn two_workers() -> EventLoop {
    EventLoop::builder().worker_threads(2).build().unwrap()
}

#[test]
fn a_datagram_makes_a_round_trip() {
    let lp = two_workers();
    lp.run_until_complete(async {
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let server_addr = server.local_addr().unwrap();
        let echo = evloop::spawn(async move {
            let mut buf = [0; 1500];
            let (n, from) = server.recv_from(&mut buf).await.unwrap();
            server.send_to(&buf[..n], from).await.unwrap();
        });
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        client.send_to(b"marco", server_addr).await.unwrap();
        let mut buf = [0; 1500];
        let (n, from) = client.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"marco");
        assert_eq!(from, server_addr);
        echo.await.unwrap();
    });
    lp.close();
}

#[test]
fn connected_sockets_send_and_recv_with_their_peer() {
    let lp = two_workers();
    lp.run_until_complete(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        a.connect(b.local_addr().unwrap()).await.unwrap();
        b.connect(a.local_addr().unwrap()).await.unwrap();
        assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());
        for i in 0..100u32 {
            a.send(&i.to_le_bytes()).await.unwrap();
            let mut buf = [0; 4];
            assert_eq!(b.recv(&mut buf).await.unwrap(), 4);
            assert_eq!(u32::from_le_bytes(buf), i);
        }
    });
    lp.close();
}

#[test]
fn a_shared_socket_feeds_several_waiting_tasks() {
    let lp = two_workers();
    lp.run_until_complete(async {
        let server = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let addr = server.local_addr().unwrap();
        let receivers: Vec<_> = (0..4)
            .map(|_| {
                let server = server.clone();
                evloop::spawn(async move {
                    let mut got = Vec::new();
                    let mut buf = [0; 8];
                    loop {
                        let (n, _) = server.recv_from(&mut buf).await.unwrap();
                        if n == 0 {
                            return got;
                        }
                        got.push(buf[0]);
                    }
                })
            })
            .collect();
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        for i in 0..100u8 {
            client.send_to(&[i], addr).await.unwrap();
            // Pace the sender so the receive buffer never overflows.
            evloop::yield_now().await;
        }
        for _ in 0..4 {
            client.send_to(&[], addr).await.unwrap();
        }
        let mut all = Vec::new();
        for receiver in receivers {
            all.extend(receiver.await.unwrap());
        }
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<u8>>());
    });
    lp.close();
}

#[test]
fn binding_a_udp_address_in_use_fails_with_addr_in_use() {
    let lp = two_workers();
    lp.run_until_complete(async {
        let first = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let error = UdpSocket::bind(first.local_addr().unwrap())
            .await
            .unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::AddrInUse);
    });
    lp.close();
}

#[test]
fn sending_to_a_closed_port_reports_connection_refused_on_a_connected_socket() {
    let lp = two_workers();
    lp.run_until_complete(async {
        let closed_port = std::net::UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        socket.connect(closed_port).await.unwrap();
        socket.send(b"anyone?").await.unwrap();
        let mut buf = [0; 16];
        let error = socket.recv(&mut buf).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused);
    });
    lp.close();
}
