//! Bare hyper 1 server: answers every request with a fixed ~1.5 KB JSON body.
//! Usage: bare-hyper 127.0.0.1:PORT  (prints the bound address on stdout).
use std::convert::Infallible;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

#[tokio::main]
async fn main() {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".into());
    let mut body = String::from("{\"access_token\":\"");
    while body.len() < 1400 { body.push_str("eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9"); }
    body.push_str("\",\"expires_in\":\"86399\",\"expires_on\":\"1900000000\",\"resource\":\"https://management.azure.com/\",\"token_type\":\"Bearer\"}");
    let body = Bytes::from(body);
    let l = TcpListener::bind(&addr).await.unwrap();
    println!("{}", l.local_addr().unwrap());
    loop {
        let (s, _) = match l.accept().await { Ok(x) => x, Err(_) => continue };
        let _ = s.set_nodelay(true);
        let b = body.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |_r: Request<Incoming>| {
                let b = b.clone();
                async move {
                    Ok::<_, Infallible>(Response::builder()
                        .header("content-type", "application/json; charset=utf-8")
                        .body(Full::new(b)).unwrap())
                }
            });
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(s), svc).await;
        });
    }
}
