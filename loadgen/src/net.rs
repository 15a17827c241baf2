//! Sockets from a chosen source address and the wall clock the reports use: shared by
//! the simulated clients and the hostile scenarios.

use anyhow::Context;
use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::net::{TcpSocket, TcpStream};

/// A TCP connection to the host of `request` from `source_ip` (no Nagle delay), with a
/// receive buffer of `recv_buffer` bytes if given.
pub async fn tcp_to(
    request: &tokio_tungstenite::tungstenite::handshake::client::Request,
    source_ip: std::net::IpAddr,
    recv_buffer: Option<u32>,
) -> anyhow::Result<TcpStream> {
    let host = request
        .uri()
        .authority()
        .context("no host in url")?
        .as_str()
        .to_owned();
    let addr: SocketAddr = tokio::net::lookup_host(&host)
        .await?
        .next()
        .context("host did not resolve")?;
    let tcp = TcpSocket::new_v4()?;
    if let Some(bytes) = recv_buffer {
        tcp.set_recv_buffer_size(bytes)?;
    }
    tcp.bind(SocketAddr::new(source_ip, 0))?;
    let stream = tcp.connect(addr).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

pub fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}
