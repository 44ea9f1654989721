//! The workload network namespace of `mimic vm run` (Linux, root): a fresh namespace where
//! `169.254.169.254:80` is the VM's IMDS, exactly as on Azure, and Mimic's other listeners
//! answer at their usual loopback addresses, so code that hard-codes IMDS's address works.
//!
//! No iptables, no veth: one thread unshares its network namespace, binds the listeners there
//! and starts the workload (which inherits that namespace); threads in the host namespace
//! relay each accepted connection to the real listener. The namespace goes away with the
//! workload and this process.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command};

use anyhow::{bail, Context};

/// A listener inside the namespace and the host address it relays to.
struct Relay {
    inside: TcpListener,
    target: SocketAddr,
}

pub fn available() -> bool {
    cfg!(target_os = "linux") && unsafe { libc::geteuid() } == 0 && std::env::var_os("MIMIC_VM_NO_NETNS").is_none()
}

/// Starts `cmd` in a new network namespace where each `(inside, target)` pair listens at
/// `inside` and relays to `target` on the host. Returns the running child.
pub fn spawn(mut cmd: Command, relays: Vec<(SocketAddr, SocketAddr)>) -> anyhow::Result<Child> {
    let worker = std::thread::spawn(move || -> anyhow::Result<(Child, Vec<Relay>)> {
        // SAFETY: unshare only changes this thread's namespace membership.
        if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
            bail!("cannot create a network namespace: {}", io::Error::last_os_error());
        }
        ip(&["link", "set", "lo", "up"])?;
        ip(&["addr", "add", "169.254.169.254/32", "dev", "lo"])?;
        let mut bound = Vec::new();
        for (inside, target) in relays {
            let l = TcpListener::bind(inside).with_context(|| format!("cannot listen on {inside} in the workload namespace"))?;
            bound.push(Relay { inside: l, target });
        }
        let child = cmd.spawn().context("cannot start the workload")?;
        Ok((child, bound))
    });
    let (child, relays) = worker.join().map_err(|_| anyhow::anyhow!("namespace setup panicked"))??;
    for r in relays {
        // This thread is in the host namespace: connections it opens reach the real listeners.
        std::thread::spawn(move || {
            for conn in r.inside.incoming().flatten() {
                let target = r.target;
                std::thread::spawn(move || {
                    if let Ok(up) = TcpStream::connect(target) {
                        pipe(conn, up);
                    }
                });
            }
        });
    }
    Ok(child)
}

fn ip(args: &[&str]) -> anyhow::Result<()> {
    let status = Command::new("ip").args(args).status().context("cannot run `ip` (iproute2)")?;
    if !status.success() {
        bail!("`ip {}` failed", args.join(" "));
    }
    Ok(())
}

fn pipe(a: TcpStream, b: TcpStream) {
    let (Ok(a2), Ok(b2)) = (a.try_clone(), b.try_clone()) else { return };
    let up = std::thread::spawn(move || copy_then_close(a, b2));
    copy_then_close(b, a2);
    let _ = up.join();
}

fn copy_then_close(mut from: TcpStream, mut to: TcpStream) {
    let _ = io::copy(&mut from, &mut to);
    let _ = to.shutdown(std::net::Shutdown::Write);
}
