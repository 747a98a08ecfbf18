//! The testing kit's explorer walks the order payment process without
//! finding a problem and takes every declared move.

use order_payment::{
    OrderEvent, OrderPayment, OrderPlaced, PaymentEvent, PaymentReceived, PaymentStatus,
    PaymentTimedOut,
};
use pm_core::testing::{Explorer, Input};
use pm_core::ProcessManager;

const ORDER: &str = "order-7";

#[test]
fn the_order_payment_process_takes_every_declared_move_without_a_problem() {
    let events = [
        Input::from(OrderEvent::Placed(OrderPlaced { amount: 4_200 })),
        Input::from(OrderEvent::Cancelled),
        Input::from(PaymentEvent::Received(PaymentReceived {
            order_id: ORDER.to_owned(),
            amount: 4_200,
        }))
        .on_stream("payment-1"),
        Input::from(PaymentEvent::TimedOut(PaymentTimedOut {
            order_id: ORDER.to_owned(),
        }))
        .on_stream("payment-1"),
    ];
    let explored = Explorer::<OrderPayment>::new(ORDER.to_owned())
        .events(events)
        .depth(5)
        .invariant_in(
            "Refunded",
            "a refunded order's payment is refunded",
            |order| order.payment == PaymentStatus::Refunded,
        )
        .invariant_in("Confirmed", "a confirmed order was paid", |order| {
            order.payment == PaymentStatus::Received
        })
        .assert();
    assert_eq!(
        explored.transitions,
        OrderPayment::descriptor().transitions().len()
    );
}
