//! Progress for a person: a step that may take more than a second says what it is doing once
//! it has taken one, and nothing when it is quick (a restart, a warm server).

use std::sync::mpsc;
use std::time::Duration;

/// Runs `announce` if it is still alive a second after `after_a_second`; dropping it first
/// (the step finished) says nothing.
pub struct SlowStep {
    done: Option<mpsc::Sender<()>>,
}

pub fn after_a_second(announce: impl FnOnce() + Send + 'static) -> SlowStep {
    let (done, wait) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = wait.recv_timeout(Duration::from_secs(1)) {
            announce();
        }
    });
    SlowStep { done: Some(done) }
}

impl Drop for SlowStep {
    fn drop(&mut self) {
        if let Some(d) = self.done.take() {
            let _ = d.send(());
        }
    }
}
