//! A bare warp handler: the yardstick of `benches/serving`. Answers every GET with a fixed
//! body of a given size on 127.0.0.1, so laris's widget answer can be compared with what
//! warp and hyper cost on this machine by themselves.
//!
//! `cargo run --release --example bare_warp -- PORT SIZE [br]` (port 0: any free one; the
//! address is printed on stderr) — with `br`, the body is
//! labelled `Content-Encoding: br` (as laris's brotli answer is; the load tool does not
//! decode it, so its bytes are filler of the compressed answer's size).

use warp::Filter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: bare_warp PORT SIZE [br]";
    let port: u16 = args
        .first()
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| anyhow::anyhow!(usage))?;
    let size: usize = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow::anyhow!(usage))?;
    let brotli = args.get(2).is_some_and(|a| a == "br");
    let body = bytes::Bytes::from(vec![b'x'; size]);
    let routes = warp::get().map(move || {
        let mut resp = warp::reply::Response::new(body.clone().into());
        let h = resp.headers_mut();
        h.insert("content-type", "application/json".parse().unwrap());
        if brotli {
            h.insert("content-encoding", "br".parse().unwrap());
        }
        resp
    });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!("bare_warp: {size} bytes on {}", listener.local_addr()?);
    warp::serve(routes).incoming(listener).run().await;
    Ok(())
}
