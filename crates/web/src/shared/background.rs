//! Work done after the answer has gone out (mail whose timing must not tell whether an account exists), counted
//! so that a graceful shutdown, and a test, can wait until it has finished.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};
use tokio::sync::Notify;

#[derive(Debug, Default)]
pub struct Background {
    running: AtomicUsize,
    finished: Notify,
}

/// Counts a task down however it ends (a panic included).
struct Running(Arc<Background>);

impl Drop for Running {
    fn drop(&mut self) {
        if self.0.running.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.finished.notify_waiters();
        }
    }
}

impl Background {
    /// Run `task` on the runtime, counted until it ends.
    pub fn spawn(self: &Arc<Self>, task: impl Future<Output = ()> + Send + 'static) {
        self.running.fetch_add(1, Ordering::AcqRel);
        let running = Running(self.clone());
        tokio::spawn(async move {
            let _running = running;
            task.await;
        });
    }

    /// Wait until no task is running.
    pub async fn idle(&self) {
        loop {
            let finished = self.finished.notified();
            tokio::pin!(finished);
            finished.as_mut().enable();
            if self.running.load(Ordering::Acquire) == 0 {
                return;
            }
            finished.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn idle_waits_for_every_task_even_one_that_panics() {
        let background = Arc::new(Background::default());
        let done = Arc::new(AtomicUsize::new(0));
        for i in 0..3 {
            let done = done.clone();
            background.spawn(async move {
                tokio::time::sleep(std::time::Duration::from_millis(20 * i)).await;
                done.fetch_add(1, Ordering::SeqCst);
            });
        }
        background.spawn(async { panic!("a bug in a task") });
        background.idle().await;
        assert_eq!(done.load(Ordering::SeqCst), 3);
    }
}
