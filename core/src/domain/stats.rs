//! Delivery and engagement counts of a campaign (or a send), and the rates derived from them.

use serde::{Deserialize, Serialize};

/// Counts over the per-recipient message rows (seed copies left out), kept up to date by the
/// database as the rows change. Each counts messages, not events: a recipient who opened five
/// times counts once in `opened` (unique opens) and five times in `opens`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryStats {
    /// Intended recipients (one message row each).
    pub recipients: i64,
    /// Queued or being handed over.
    pub waiting: i64,
    /// Not sent, for a reason recorded with each message.
    pub skipped: i64,
    /// Handed off to the provider.
    pub sent: i64,
    /// Handed off, with no delivery, bounce or complaint notice yet.
    pub pending: i64,
    /// Confirmed delivered by the provider.
    pub delivered: i64,
    /// Permanent and soft bounces.
    pub bounced: i64,
    pub soft_bounced: i64,
    pub complained: i64,
    /// Could not be sent, or refused by the provider.
    pub failed: i64,
    /// Recipients who unsubscribed through the message.
    pub unsubscribed: i64,
    /// Messages opened (machines' opens included).
    pub opened: i64,
    /// Messages opened, as far as no machine seemed to open them.
    pub human_opened: i64,
    pub clicked: i64,
    pub human_clicked: i64,
    /// Every open and every click.
    pub opens: i64,
    pub clicks: i64,
}

/// A share of a whole, with the whole kept so that "no data" differs from 0 %.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rate {
    pub part: i64,
    pub whole: i64,
}

impl Rate {
    /// The rate in percent, or `None` when there is nothing to divide by.
    pub fn percent(self) -> Option<f64> {
        (self.whole > 0).then(|| self.part as f64 * 100.0 / self.whole as f64)
    }

    /// "42.5 %", "100 %", or "–" when there is nothing to divide by. Rounded half up to a
    /// tenth, in integers: float formatting would add 15 KB to the browser bundle.
    pub fn display(self) -> String {
        if self.whole <= 0 {
            return "–".to_owned();
        }
        let (part, whole) = (i128::from(self.part), i128::from(self.whole));
        let tenths = (part * 2000 + whole) / (2 * whole);
        match tenths % 10 {
            0 => format!("{} %", tenths / 10),
            t => format!("{}.{t} %", tenths / 10),
        }
    }
}

impl DeliveryStats {
    /// Both sets of numbers added up (a workflow step's messages over several versions).
    pub fn plus(self, o: DeliveryStats) -> DeliveryStats {
        DeliveryStats {
            recipients: self.recipients + o.recipients,
            waiting: self.waiting + o.waiting,
            skipped: self.skipped + o.skipped,
            sent: self.sent + o.sent,
            pending: self.pending + o.pending,
            delivered: self.delivered + o.delivered,
            bounced: self.bounced + o.bounced,
            soft_bounced: self.soft_bounced + o.soft_bounced,
            complained: self.complained + o.complained,
            failed: self.failed + o.failed,
            unsubscribed: self.unsubscribed + o.unsubscribed,
            opened: self.opened + o.opened,
            human_opened: self.human_opened + o.human_opened,
            clicked: self.clicked + o.clicked,
            human_clicked: self.human_clicked + o.human_clicked,
            opens: self.opens + o.opens,
            clicks: self.clicks + o.clicks,
        }
    }

    /// Sent out of the intended recipients.
    pub fn sent_rate(&self) -> Rate {
        Rate {
            part: self.sent,
            whole: self.recipients,
        }
    }
    /// Delivered, bounced, opened and clicked are shares of what was sent: with SMTP no
    /// delivery confirmation arrives, so "delivered" cannot be the base.
    pub fn delivered_rate(&self) -> Rate {
        Rate {
            part: self.delivered,
            whole: self.sent,
        }
    }
    pub fn bounce_rate(&self) -> Rate {
        Rate {
            part: self.bounced,
            whole: self.sent,
        }
    }
    pub fn open_rate(&self) -> Rate {
        Rate {
            part: self.opened,
            whole: self.sent,
        }
    }
    pub fn click_rate(&self) -> Rate {
        Rate {
            part: self.clicked,
            whole: self.sent,
        }
    }
    /// Opens no machine seemed to make, out of what was sent.
    pub fn human_open_rate(&self) -> Rate {
        Rate {
            part: self.human_opened,
            whole: self.sent,
        }
    }
    pub fn human_click_rate(&self) -> Rate {
        Rate {
            part: self.human_clicked,
            whole: self.sent,
        }
    }
    pub fn complaint_rate(&self) -> Rate {
        Rate {
            part: self.complained,
            whole: self.sent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_display() {
        let table = [
            (0, 0, "–"),
            (0, 10, "0 %"),
            (10, 10, "100 %"),
            (1, 3, "33.3 %"),
            (2, 3, "66.7 %"),
            (1, 8, "12.5 %"),
            (999, 1000, "99.9 %"),
            (1, 1000, "0.1 %"),
            (1, 100000, "0 %"),
            (1, 2000, "0.1 %"), // 0.05 rounds half up
            (1, 2001, "0 %"),
            (7003, 7072, "99 %"),
        ];
        for (part, whole, shown) in table {
            assert_eq!(Rate { part, whole }.display(), shown, "{part}/{whole}");
        }
    }

    #[test]
    fn rates_use_the_right_base() {
        let s = DeliveryStats {
            recipients: 200,
            sent: 100,
            delivered: 90,
            bounced: 4,
            opened: 45,
            human_opened: 30,
            clicked: 9,
            complained: 1,
            ..DeliveryStats::default()
        };
        assert_eq!(s.sent_rate().percent(), Some(50.0));
        assert_eq!(s.delivered_rate().percent(), Some(90.0));
        assert_eq!(s.bounce_rate().percent(), Some(4.0));
        assert_eq!(s.open_rate().percent(), Some(45.0));
        assert_eq!(s.click_rate().percent(), Some(9.0));
        assert_eq!(s.human_open_rate().percent(), Some(30.0));
        assert_eq!(s.complaint_rate().percent(), Some(1.0));
        assert_eq!(DeliveryStats::default().open_rate().percent(), None);
    }
}
