//! A converging process (after "Converging processes"): an order waits for
//! its payment, and three inputs can arrive in any order: the payment, the
//! payment gateway's timeout, and the customer's cancellation.
//!
//! The rules, chosen so that all three inputs, in any of the 3! orders, end
//! in one outcome (cancelled, payment refunded, instance completed):
//!
//! - a payment confirms an open order, and is refunded if the order is
//!   already cancelled;
//! - a timeout cancels an order not yet paid, and is stale once paid;
//! - a cancellation cancels the order and refunds a payment already taken;
//! - once a refund is sent the order is `Refunded`, its final state:
//!   nothing can change after that, and entering it completes the instance.
//!
//! The order's status is the process's state (`state = order`), so the
//! build proves every status can reach `Refunded` and none is left without
//! a way on.
//!
//! `tests/converge.rs` checks every order with `pm_core::testing::converges_in_state`
//! (the end state), and shows with `converges` that the commands on the way
//! depend on the order.

use pm_core::prelude::*;
use serde::{Deserialize, Serialize};

/// Events of the order.
#[derive(Debug, Clone, Serialize, Deserialize, Event)]
pub enum OrderEvent {
    /// The order was placed; its stream id is the order id.
    Placed(OrderPlaced),
    /// The customer cancelled the order.
    Cancelled,
}

/// Payload of [`OrderEvent::Placed`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderPlaced {
    /// What the customer owes, in cents.
    pub amount: u64,
}

/// Events of the payment gateway, on streams of their own.
#[derive(Debug, Clone, Serialize, Deserialize, Event)]
pub enum PaymentEvent {
    /// The payment arrived.
    Received(PaymentReceived),
    /// The gateway gave up waiting for the payment.
    TimedOut(PaymentTimedOut),
}

/// Payload of [`PaymentEvent::Received`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentReceived {
    /// The order paid for.
    pub order_id: String,
    /// The amount paid, in cents.
    pub amount: u64,
}

/// Payload of [`PaymentEvent::TimedOut`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentTimedOut {
    /// The order whose payment timed out.
    pub order_id: String,
}

/// Ship the order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfirmOrder {
    /// The order.
    pub order_id: String,
}

/// Cancel the order in the order service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CancelOrder {
    /// The order.
    pub order_id: String,
}

/// Pay the customer back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefundPayment {
    /// The order.
    pub order_id: String,
    /// The amount to refund, in cents.
    pub amount: u64,
}

/// Where the order stands: the process's state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, State)]
pub enum OrderStatus {
    /// Waiting for the payment.
    #[default]
    Open,
    /// Paid; to be shipped.
    Confirmed,
    /// Cancelled by the customer or by the payment timeout; a payment that
    /// still arrives is refunded.
    Cancelled,
    /// Cancelled, and the payment refunded.
    #[state(final)]
    Refunded,
}

/// Where the payment stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PaymentStatus {
    /// Not yet received.
    #[default]
    Awaiting,
    /// Received and kept.
    Received,
    /// The gateway timed out before the payment arrived.
    TimedOut,
    /// Received and refunded.
    Refunded,
}

/// The state of one order's payment process.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrderPayment {
    /// The order's status.
    pub order: OrderStatus,
    /// The payment's status.
    pub payment: PaymentStatus,
    /// The amount the order costs, in cents.
    pub amount: u64,
}

#[process_manager(
    name = "order-payment",
    id = String,
    subscribe(OrderEvent, PaymentEvent),
    state = order,
    ignore(
        OrderEvent::Placed except(Open),
        OrderEvent::Cancelled in(Refunded),
        PaymentEvent::Received in(Refunded),
        PaymentEvent::TimedOut in(Confirmed, Refunded),
    )
)]
impl OrderPayment {
    #[on(OrderEvent::Placed, start, in(Open))]
    fn placed(&mut self, event: &OrderPlaced, _cx: &mut Context<Self>) {
        self.amount = event.amount;
    }

    #[on(
        PaymentEvent::Received,
        correlate = order_id,
        in(Open, Confirmed),
        to(Confirmed),
        sends(ConfirmOrder)
    )]
    fn received(&mut self, event: &PaymentReceived, cx: &mut Context<Self>) {
        self.payment = PaymentStatus::Received;
        self.order = OrderStatus::Confirmed;
        cx.send(ConfirmOrder {
            order_id: event.order_id.clone(),
        });
    }

    #[on(
        PaymentEvent::Received,
        correlate = order_id,
        in(Cancelled),
        to(Refunded),
        sends(RefundPayment)
    )]
    fn received_after_cancellation(&mut self, event: &PaymentReceived, cx: &mut Context<Self>) {
        self.payment = PaymentStatus::Refunded;
        self.order = OrderStatus::Refunded;
        cx.send(RefundPayment {
            order_id: event.order_id.clone(),
            amount: event.amount,
        });
    }

    #[on(
        PaymentEvent::TimedOut,
        correlate = order_id,
        in(Open),
        to(Cancelled),
        sends(CancelOrder)
    )]
    fn timed_out(&mut self, event: &PaymentTimedOut, cx: &mut Context<Self>) {
        self.payment = PaymentStatus::TimedOut;
        self.order = OrderStatus::Cancelled;
        cx.send(CancelOrder {
            order_id: event.order_id.clone(),
        });
    }

    /// The order is cancelled already: only the payment's status changes.
    #[on(PaymentEvent::TimedOut, correlate = order_id, in(Cancelled))]
    fn timed_out_after_cancellation(&mut self, _: &PaymentTimedOut, _cx: &mut Context<Self>) {
        self.payment = PaymentStatus::TimedOut;
    }

    #[on(OrderEvent::Cancelled, in(Open, Cancelled), to(Cancelled))]
    fn cancelled(&mut self, _cx: &mut Context<Self>) {
        self.order = OrderStatus::Cancelled;
    }

    /// A confirmed order has been paid: cancelling it refunds the payment.
    #[on(
        OrderEvent::Cancelled,
        in(Confirmed),
        to(Refunded),
        sends(RefundPayment)
    )]
    fn cancelled_after_payment(&mut self, cx: &mut Context<Self>) {
        self.payment = PaymentStatus::Refunded;
        self.order = OrderStatus::Refunded;
        cx.send(RefundPayment {
            order_id: cx.id().clone(),
            amount: self.amount,
        });
    }
}
