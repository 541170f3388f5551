//! `channeldesk demo-data`: a realistic partner network in the configured database, so that a
//! newcomer opens the API (or a frontend) on something to look at. About 200 partners across
//! 华东/华南/华北/西南 of every kind and tier, key accounts with assignments, twelve months of
//! performance and cost with trends (a few partners declining), targets, meetings with action
//! items (some overdue), published bulletins with receipts, contracts with terms (some risky),
//! competitors with observations and recruitment campaigns — and an admin key.
//!
//! Everything is written through the rooms' own stores, so it is validated, audited and evented
//! like data entered over HTTP. It is one data upgrade (`demo_data_v1`): one transaction, recorded
//! in `data_upgrades`, so a second run (or a second replica) changes nothing. The numbers come
//! from a fixed seed: every run on an empty database produces the same network.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::access::{Actor, Role};
use crate::api_keys::model::ApiKeyCreate;
use crate::bulletins::receipts::store::Acknowledger;
use crate::db::upgrades::{self, Upgrade};
use crate::db::{Db, DbConn};
use crate::error::ApiError;
use crate::partners::model::{ChannelType, PartnerKind, Tier};
use crate::performance::period::Month;

/// The data upgrade that records the demo data as loaded.
pub const MARKER: &str = "demo_data_v1";

const REGIONS: [(&str, [&str; 3]); 4] = [
    ("华东", ["上海", "杭州", "南京"]),
    ("华南", ["广州", "深圳", "厦门"]),
    ("华北", ["北京", "天津", "济南"]),
    ("西南", ["成都", "重庆", "昆明"]),
];
const WORDS: [&str; 20] = [
    "启明", "华信", "博远", "众诚", "天行", "恒通", "锐思", "联创", "睿智", "同方", "金桥", "新程", "汇达", "宏图",
    "云帆", "星辰", "海纳", "百川", "鼎盛", "致远",
];
const TRADES: [&str; 10] = ["科技", "信息", "商贸", "电子", "数码", "网络", "软件", "系统", "智能", "供应链"];
const OWNERS: [&str; 5] = ["张伟", "李娜", "王芳", "刘洋", "陈静"];
const LINES: [&str; 3] = ["云服务", "安全", "终端"];
const KINDS: [PartnerKind; 7] = [
    PartnerKind::Distributor,
    PartnerKind::Agent,
    PartnerKind::Reseller,
    PartnerKind::Wholesaler,
    PartnerKind::SalesTeam,
    PartnerKind::Telesales,
    PartnerKind::OnlineDirect,
];
pub const PARTNERS: usize = 200;

/// What a run wrote, and the admin key it created (shown once).
#[derive(Debug, Default)]
pub struct Loaded {
    pub admin_key: String,
    pub partners: usize,
    pub key_accounts: usize,
    pub performance_records: usize,
    pub cost_records: usize,
    pub targets: usize,
    pub meetings: usize,
    pub bulletins: usize,
    pub contracts: usize,
    pub competitors: usize,
    pub campaigns: usize,
}

impl Loaded {
    fn rows(&self) -> usize {
        self.partners
            + self.key_accounts
            + self.performance_records
            + self.cost_records
            + self.targets
            + self.meetings
            + self.bulletins
            + self.contracts
            + self.competitors
            + self.campaigns
    }
}

/// Loads the demo data unless it was loaded before (`Ok(None)`).
pub fn load(db: &Db, now: DateTime<Utc>) -> Result<Option<Loaded>, String> {
    let out: Arc<Mutex<Option<Loaded>>> = Arc::new(Mutex::new(None));
    let sink = out.clone();
    let upgrade = Upgrade::new(MARKER, move |conn| {
        let loaded = fill(conn, now)?;
        let rows = loaded.rows();
        if let Ok(mut slot) = sink.lock() {
            *slot = Some(loaded);
        }
        Ok(rows)
    });
    let ran = upgrades::run(db, &[upgrade])?;
    if ran.is_empty() {
        return Ok(None);
    }
    let loaded = out.lock().map_err(|_| "the demo data loader panicked".to_string())?.take();
    Ok(loaded)
}

/// A room's request type from JSON, as a client would send it.
fn input<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    serde_json::from_value(value).map_err(|e| ApiError::internal(format!("demo data does not fit its type: {e}")))
}

struct Builder<'a> {
    conn: &'a mut DbConn,
    actor: Actor,
    rng: StdRng,
    now: DateTime<Utc>,
    /// The twelve full months before this one, oldest first.
    months: Vec<Month>,
    loaded: Loaded,
}

/// One generated partner: what the later steps need to know of it.
struct DemoPartner {
    id: String,
    region: &'static str,
    city: &'static str,
    tier: Tier,
    active: bool,
    /// Monthly revenue at the start of the year, fen.
    base_minor: i64,
    /// Change per month, in basis points (negative: declining).
    trend_bp: i64,
}

fn fill(conn: &mut DbConn, now: DateTime<Utc>) -> Result<Loaded, ApiError> {
    let this_month = Month::of(now).ok_or_else(|| ApiError::internal("the clock is out of range"))?;
    let months = (1..=12).rev().filter_map(|back| this_month.plus(-back)).collect();
    let mut b = Builder {
        conn,
        actor: Actor::system("demo-data"),
        rng: StdRng::seed_from_u64(2026),
        now,
        months,
        loaded: Loaded::default(),
    };
    let campaigns = b.campaigns()?;
    let partners = b.partners(&campaigns)?;
    b.key_accounts(&partners)?;
    b.performance_and_cost(&partners)?;
    b.targets(&partners)?;
    b.meetings(&partners)?;
    b.bulletins(&partners)?;
    b.contracts(&partners)?;
    b.competitors()?;
    let key: ApiKeyCreate = input(json!({"name": "demo admin", "role": Role::Admin}))?;
    b.loaded.admin_key = crate::api_keys::store::create(b.conn, &b.actor, &key)?.secret;
    Ok(b.loaded)
}

impl Builder<'_> {
    fn day(&self, days_from_today: i64) -> NaiveDate {
        (self.now + Duration::days(days_from_today)).date_naive()
    }

    fn campaigns(&mut self) -> Result<Vec<String>, ApiError> {
        let kinds = ["trade_show", "seminar", "online_marketing", "referral"];
        let mut ids = Vec::new();
        for (i, (region, _)) in REGIONS.iter().enumerate() {
            let starts_on = self.day(-400 + 30 * i as i64);
            let body = json!({
                "name": format!("{region}渠道招募{}", ["展会", "研讨会", "线上推广", "伙伴推荐"][i]),
                "kind": kinds[i],
                "starts_on": starts_on,
                "ends_on": starts_on + Duration::days(60),
                "region": region,
                "cost_minor": 20_000_000 + 5_000_000 * i as i64,
            });
            let campaign = crate::recruitment::store::create(self.conn, &self.actor, &input(body)?)?;
            ids.push(campaign.id);
        }
        self.loaded.campaigns = ids.len();
        Ok(ids)
    }

    fn partners(&mut self, campaigns: &[String]) -> Result<Vec<DemoPartner>, ApiError> {
        let mut partners = Vec::with_capacity(PARTNERS);
        for i in 0..PARTNERS {
            let (region, cities) = REGIONS[i % REGIONS.len()];
            let city = cities[(i / REGIONS.len()) % cities.len()];
            let kind = KINDS[i % KINDS.len()];
            let tier = match i {
                _ if i % 20 == 0 => Tier::Strategic,
                _ if i % 5 == 1 => Tier::Key,
                _ if i % 10 == 7 => Tier::Probation,
                _ => Tier::Standard,
            };
            let channel_type = kind.channel_type().unwrap_or(ChannelType::Indirect);
            let from_campaign = i % 6 == 0;
            let body = json!({
                "name": format!("{city}{}{}有限公司", WORDS[i % WORDS.len()], TRADES[i / WORDS.len()]),
                "channel_type": channel_type,
                "kind": kind,
                "tier": tier,
                "region": region,
                "territories": [city],
                "industries": [(["制造", "金融", "零售", "政务", "医疗"][i % 5])],
                "owner": OWNERS[i % OWNERS.len()],
                "source": (if from_campaign { ["trade_show", "seminar", "online_marketing", "referral"][i % 4] } else { "inbound" }),
                "campaign_id": (if from_campaign { Some(&campaigns[i % campaigns.len()]) } else { None }),
            });
            let partner = crate::partners::store::create(self.conn, &self.actor, &input(body)?)?;
            // Most partners are active; a few are still being recruited or were suspended.
            let path: &[&str] = match i % 25 {
                3 => &[],
                8 => &["onboarding"],
                13 if i % 2 == 1 => &["onboarding", "active", "suspended"],
                _ => &["onboarding", "active"],
            };
            for status in path {
                let patch = input(json!({"status": status}))?;
                crate::partners::store::update(self.conn, &self.actor, &partner.id, &None, &patch)?;
            }
            let base_yuan = match tier {
                Tier::Strategic => 4_000_000,
                Tier::Key => 1_200_000,
                Tier::Standard => 300_000,
                Tier::Probation => 80_000,
            };
            let base_minor = base_yuan * 100 * self.rng.gen_range(70..=130) / 100;
            let trend_bp = if i % 9 == 4 { -self.rng.gen_range(300..=600) } else { self.rng.gen_range(-50..=300) };
            partners.push(DemoPartner {
                id: partner.id,
                region,
                city,
                tier,
                active: path.len() >= 2,
                base_minor,
                trend_bp,
            });
        }
        self.loaded.partners = partners.len();
        Ok(partners)
    }

    fn key_accounts(&mut self, partners: &[DemoPartner]) -> Result<(), ApiError> {
        let names = ["电网", "银行", "移动", "医院", "地铁", "港务"];
        for (r, (region, cities)) in REGIONS.iter().enumerate() {
            let candidates: Vec<&DemoPartner> =
                partners.iter().filter(|p| p.region == *region && p.active && p.tier != Tier::Probation).collect();
            for (n, name) in names.iter().enumerate() {
                let city = cities[n % cities.len()];
                let body = json!({
                    "name": format!("{city}{name}{}", ["集团", "分公司", "有限公司"][n % 3]),
                    "industry": (["能源", "金融", "通信", "医疗", "交通", "物流"][n]),
                    "region": region,
                    "owner": OWNERS[(r + n) % OWNERS.len()],
                });
                let account = crate::key_accounts::store::create(self.conn, &self.actor, &input(body)?)?;
                self.loaded.key_accounts += 1;
                let primary = candidates[(n * 3) % candidates.len()];
                let support = candidates[(n * 3 + 1) % candidates.len()];
                for (partner, role) in [(primary, "primary"), (support, "support")] {
                    let body =
                        json!({"partner_id": partner.id, "role": role, "product_lines": [LINES[n % LINES.len()]]});
                    crate::key_accounts::store::create_assignment(self.conn, &self.actor, &account.id, &input(body)?)?;
                }
            }
        }
        Ok(())
    }

    fn revenue(&self, partner: &DemoPartner, month_index: usize) -> i64 {
        let growth = 10_000 + partner.trend_bp * month_index as i64;
        (partner.base_minor * growth.max(1_000) / 10_000).max(0)
    }

    fn performance_and_cost(&mut self, partners: &[DemoPartner]) -> Result<(), ApiError> {
        for partner in partners.iter().filter(|p| p.active) {
            for (m, month) in self.months.clone().into_iter().enumerate() {
                // Revenue with its trend and ±8 % of month-to-month noise; December and June sell more.
                let seasonal = if matches!(month.month(), 6 | 12) { 115 } else { 100 };
                let noise = self.rng.gen_range(92..=108);
                let revenue = self.revenue(partner, m) * seasonal / 100 * noise / 100;
                let units = revenue / self.rng.gen_range(80_000..=150_000);
                let body = json!({
                    "partner_id": partner.id,
                    "period": month.to_string(),
                    "revenue_minor": revenue,
                    "units": units,
                    "orders": (units / 3).max(1),
                    "new_customers": self.rng.gen_range(0..=12),
                    "customer_satisfaction": self.rng.gen_range(72..=97),
                    "market_share_bp": self.rng.gen_range(80..=1_800),
                });
                crate::performance::records::store::create(self.conn, &self.actor, input(body)?)?;
                self.loaded.performance_records += 1;
                let mut costs = vec![
                    ("operating", revenue * self.rng.gen_range(5..=10) / 100),
                    ("sales_expense", revenue * self.rng.gen_range(3..=7) / 100),
                ];
                if m % 3 == 2 && matches!(partner.tier, Tier::Strategic | Tier::Key) {
                    costs.push(("marketing_support", revenue * 4 / 100));
                }
                for (category, amount) in costs {
                    let body = json!({"partner_id": partner.id, "period": month.to_string(), "category": category, "amount_minor": amount});
                    crate::performance::costs::store::create(self.conn, &self.actor, input(body)?)?;
                    self.loaded.cost_records += 1;
                }
            }
        }
        Ok(())
    }

    /// A revenue target for the last full quarter of each active partner, agreed, set a little
    /// above or below what it then sold, so attainment spreads around 100 %.
    fn targets(&mut self, partners: &[DemoPartner]) -> Result<(), ApiError> {
        let Some(last) = self.months.last().copied() else { return Ok(()) };
        let quarter_end = last.plus(-((last.month() as i64) % 3)).unwrap_or(last);
        let quarter = format!("{}-Q{}", quarter_end.year(), quarter_end.month().div_ceil(3));
        let first = self.months.len().saturating_sub(3 + ((last.month() as usize) % 3));
        for partner in partners.iter().filter(|p| p.active) {
            let sold: i64 = (first..first + 3).map(|m| self.revenue(partner, m)).sum();
            let target = (sold * self.rng.gen_range(85..=125) / 100).max(1);
            let status = if self.rng.gen_range(0..10) == 0 { "draft" } else { "agreed" };
            let body = json!({"partner_id": partner.id, "period": quarter, "metric": "revenue", "target_value": target, "status": status});
            crate::targets::store::create(self.conn, &self.actor, input(body)?)?;
            self.loaded.targets += 1;
        }
        Ok(())
    }

    /// A quarterly review held with each strategic and key partner, with action items (one of
    /// them overdue for every third partner), and the next review scheduled.
    fn meetings(&mut self, partners: &[DemoPartner]) -> Result<(), ApiError> {
        let important = partners.iter().filter(|p| p.active && matches!(p.tier, Tier::Strategic | Tier::Key));
        for (n, partner) in important.enumerate() {
            let owner = OWNERS[n % OWNERS.len()];
            let held_at = self.now - Duration::days(20 + (n as i64 % 40));
            let body = json!({
                "title": format!("{}季度经营回顾", partner.city),
                "kind": "business_review",
                "partner_ids": [partner.id],
                "organizer": owner,
                "agenda": ["上季度业绩回顾", "下季度目标", "市场支持需求"],
                "location": format!("{}办公室", partner.city),
                "starts_at": held_at,
                "ends_at": held_at + Duration::hours(2),
            });
            let meeting = crate::meetings::meetings::store::create(self.conn, &self.actor, &input(body)?)?;
            let overdue_by = if n % 3 == 0 { -10 } else { 20 };
            let patch = json!({
                "status": "held",
                "minutes": "双方回顾了上季度业绩，确认下季度重点产品线与市场活动。",
                "decisions": ["下季度联合举办一场客户研讨会"],
                "action_items": [
                    {"title": "提交下季度销售预测", "owner": owner, "partner_id": partner.id, "due_date": self.day(overdue_by)},
                    {"title": "确认研讨会场地与预算", "owner": owner, "partner_id": partner.id, "due_date": self.day(30)},
                ],
            });
            crate::meetings::meetings::store::update(self.conn, &self.actor, &meeting.id, &None, &input(patch)?)?;
            let next_at = self.now + Duration::days(7 + (n as i64 % 21));
            let body = json!({
                "title": format!("{}季度经营回顾", partner.city),
                "kind": "business_review",
                "partner_ids": [partner.id],
                "organizer": owner,
                "starts_at": next_at,
                "ends_at": next_at + Duration::hours(2),
            });
            crate::meetings::meetings::store::create(self.conn, &self.actor, &input(body)?)?;
            self.loaded.meetings += 2;
        }
        Ok(())
    }

    fn bulletins(&mut self, partners: &[DemoPartner]) -> Result<(), ApiError> {
        let bulletins = [
            ("2027年渠道政策发布", "policy", "important", json!({"all": true})),
            ("华东市场竞品降价预警", "competitor", "urgent", json!({"regions": ["华东"]})),
            ("新一代安全网关上市", "product", "normal", json!({"all": true})),
            ("战略伙伴专属返点方案", "policy", "important", json!({"tiers": ["strategic", "key"]})),
            ("渠道销售认证培训报名", "training", "normal", json!({"all": true})),
            ("西南区域市场分析报告", "market", "normal", json!({"regions": ["西南"]})),
        ];
        for (n, (title, category, importance, audience)) in bulletins.into_iter().enumerate() {
            let body = json!({
                "title": title,
                "body": format!("**{title}**\n\n详情请见附件，如有疑问请联系渠道经理。"),
                "category": category,
                "importance": importance,
                "audience": audience,
            });
            let bulletin = crate::bulletins::store::create(self.conn, &self.actor, &input(body)?)?;
            crate::bulletins::store::publish(self.conn, &self.actor, &bulletin.id, &None)?;
            self.loaded.bulletins += 1;
            // About half of the recipients have read it (recorded by their channel manager).
            for partner in partners.iter().filter(|p| p.active).skip(n).step_by(2) {
                let by = Acknowledger::Staff(partner.id.clone());
                match crate::bulletins::receipts::store::acknowledge(self.conn, &self.actor, &bulletin.id, &by, None) {
                    Ok(_) => {}
                    // Not in this bulletin's audience: nothing to acknowledge.
                    Err(e) if e.status.is_client_error() => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }

    /// A distribution contract for each strategic and key partner with the four required terms
    /// and its commercial terms. Some carry the risks the risk codes find: a missing dispute
    /// clause, two exclusivities over one city and product line, an expiry within weeks, a
    /// minimum purchase the partner does not reach.
    fn contracts(&mut self, partners: &[DemoPartner]) -> Result<(), ApiError> {
        let year = self.now.date_naive().format("%Y");
        let important: Vec<&DemoPartner> =
            partners.iter().filter(|p| p.active && matches!(p.tier, Tier::Strategic | Tier::Key)).collect();
        for (n, partner) in important.iter().enumerate() {
            let expires_soon = n % 8 == 5;
            let body = json!({
                "partner_id": partner.id,
                "number": format!("HT-{year}-{:04}", n + 1),
                "title": format!("{}年度经销协议", partner.city),
                "kind": "distribution",
                "signed_at": self.now - Duration::days(300),
                "effective_from": self.day(-300),
                "effective_to": (if expires_soon { self.day(20) } else { self.day(65 + (n as i64 % 300)) }),
                "auto_renew": n % 4 == 0,
                "total_value": partner.base_minor * 12,
                "owner": OWNERS[n % OWNERS.len()],
            });
            let contract = crate::contracts::store::create(self.conn, &self.actor, &input(body)?)?;
            let mut terms = vec![
                json!({"kind": "rights", "title": "授权范围", "text": "乙方在约定区域内销售甲方产品。"}),
                json!({"kind": "obligations", "title": "双方义务", "text": "乙方按季度提交销售报告。", "obligated_party": "partner"}),
                json!({"kind": "breach_liability", "title": "违约责任", "text": "违约方承担守约方因此遭受的损失。"}),
                json!({"kind": "rebate", "title": "年度返点", "text": "按年度采购额阶梯返点。",
                       "params": {"tiers": [{"threshold_minor": partner.base_minor * 6, "rate_bp": 200}, {"threshold_minor": partner.base_minor * 12, "rate_bp": 350}]}}),
                json!({"kind": "payment", "title": "付款", "text": "发票后45天内付款。", "params": {"days": 45}}),
            ];
            if n % 7 != 3 {
                terms.push(
                    json!({"kind": "dispute_resolution", "title": "争议解决", "text": "提交上海国际仲裁中心仲裁。",
                                  "params": {"method": "arbitration", "venue": "上海国际仲裁中心"}}),
                );
            }
            // The first two partners of a city get the same exclusive line there: an overlap.
            if n < 8 {
                let city = important.iter().find(|p| p.region == partner.region).map_or(partner.city, |p| p.city);
                terms.push(
                    json!({"kind": "exclusivity", "title": "独家经营", "text": "乙方在约定区域独家经营约定产品线。",
                                  "params": {"territories": [city], "product_lines": [LINES[0]]}}),
                );
            }
            if n % 6 == 1 {
                terms.push(json!({"kind": "minimum_purchase", "title": "最低采购额", "text": "乙方每季度最低采购额。",
                                  "params": {"amount_minor": partner.base_minor * 5, "period": "quarter"}}));
            }
            for term in terms {
                crate::contracts::terms::store::create_term(self.conn, &self.actor, &contract.id, &input(term)?)?;
            }
            crate::contracts::store::update(
                self.conn,
                &self.actor,
                &contract.id,
                &None,
                &input(json!({"status": "active"}))?,
            )?;
            self.loaded.contracts += 1;
        }
        Ok(())
    }

    fn competitors(&mut self) -> Result<(), ApiError> {
        let competitors =
            [("宏达科技渠道", "below"), ("远景数码渠道", "par"), ("天成信息渠道", "above"), ("创联电子渠道", "below")];
        for (n, (name, price)) in competitors.iter().enumerate() {
            let body = json!({"name": name, "notes": "公开资料与伙伴反馈整理"});
            let competitor = crate::competitors::store::create(self.conn, &self.actor, &input(body)?)?;
            for (r, (region, _)) in REGIONS.iter().enumerate() {
                for (age, drift) in [(200, 0), (30, 150)] {
                    let share = 800 + 400 * ((n + r) % 4) as i64 + drift;
                    let body = json!({
                        "region": region,
                        "channel_type": "indirect",
                        "kind": (["distributor", "agent", "reseller", "wholesaler"][(n + r) % 4]),
                        "partner_names": [format!("{region}{}分销", WORDS[(n * 4 + r) % WORDS.len()])],
                        "market_share_bp": share,
                        "price_position": price,
                        "strategy": (["价格下探抢占份额", "加大渠道返点", "主攻政企大客户", "线上直销分流"][n]),
                        "observed_on": self.day(-age),
                        "source": "区域经理走访",
                    });
                    crate::competitors::observations::store::create(
                        self.conn,
                        &self.actor,
                        &competitor.id,
                        &input(body)?,
                    )?;
                }
            }
            self.loaded.competitors += 1;
        }
        Ok(())
    }
}
