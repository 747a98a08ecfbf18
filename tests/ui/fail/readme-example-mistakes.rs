// The README's example with two mistakes: `OrderEvent::Cancelled` lost its
// handler, and `paid` sends a command it does not declare.
use pm_core::prelude::*;
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum OrderEvent { Placed(OrderPlaced), Paid, Cancelled }

#[derive(Debug, Clone, Serialize, Deserialize)]
struct OrderPlaced { email: String }

#[derive(Debug, Clone, Copy, PartialEq, Timeout)]
enum OrderTimeout { Reminder }

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct SendReminder { email: String }

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct NotifyShop { email: String }

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Order { email: String }

#[process_manager(name = "order", id = String, subscribe(OrderEvent), timeouts(OrderTimeout))]
impl Order {
    #[on(OrderEvent::Placed, start)]
    fn placed(&mut self, placed: &OrderPlaced, cx: &mut Context<Self>) {
        self.email = placed.email.clone();
        cx.schedule(OrderTimeout::Reminder, Duration::from_secs(24 * 3600));
    }

    #[on(OrderEvent::Paid)]
    fn paid(&mut self, cx: &mut Context<Self>) {
        cx.send(NotifyShop { email: self.email.clone() });
        cx.complete();
    }

    #[timeout(OrderTimeout::Reminder, sends(SendReminder))]
    fn remind(&mut self, cx: &mut Context<Self>) {
        cx.send(SendReminder { email: self.email.clone() });
    }
}

fn main() {}
