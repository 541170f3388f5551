//! The payload of `delivery.dead`: a delivery that kept failing for the whole retry window and
//! was given up, so that someone can look at the robot or receiver and re-queue it. A pure type
//! over the delivery as the API shows it; it imports only this sub-resource's `model`, never
//! `crate::events` (the outbox sits below the rooms).

use serde::{Deserialize, Serialize};

use super::model::Delivery;

/// `delivery.dead`: the delivery as it is now (status `dead`, its last error), the name its
/// channel or webhook had, and the window that ran out.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeliveryDead {
    pub delivery: Delivery,
    /// The bot channel's or webhook's name.
    pub target_name: Option<String>,
    /// `CHANNELDESK_DELIVERY_RETRY_HOURS` when it was given up.
    pub retry_hours: u32,
}
