//! Every public error code, in one place. A code is part of the API contract: clients branch on it,
//! so a typo must not mint a new one. `ApiError` takes a `Code`, never free text, and a test checks
//! that every code the OpenAPI document names is here and that no two codes share a meaning.

macro_rules! codes {
    ($($variant:ident => $text:literal : $meaning:literal,)+) => {
        /// A stable, snake_case machine code (`problem.code`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $($variant),+
        }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $text),+
                }
            }

            /// What the code means, for the README's table and the spec test.
            pub fn meaning(self) -> &'static str {
                match self {
                    $(Code::$variant => $meaning),+
                }
            }
        }
    };
}

codes! {
    // The request itself
    ValidationFailed => "validation_failed": "an input is invalid; `errors[]` names each field",
    MalformedJson => "malformed_json": "the body is not JSON at all (empty, truncated, trailing text)",
    MalformedBody => "malformed_body": "the body or a header could not be read or does not have the required form",
    PayloadTooLarge => "payload_too_large": "the body is larger than CHANNELDESK_BODY_LIMIT_BYTES",
    UnsupportedMediaType => "unsupported_media_type": "the body is not of a content type the operation takes",
    MethodNotAllowed => "method_not_allowed": "the path exists but not with this method; `Allow` lists the ones it has",
    RouteNotFound => "route_not_found": "no route (operation) has this path",
    NotFound => "not_found": "the path names no resource visible to this key, or its id is not a UUID",
    VersionMismatch => "version_mismatch": "If-Match names a version that is no longer current",
    IdempotencyKeyReused => "idempotency_key_reused": "the Idempotency-Key was used with a different request",
    IdempotencyKeyInProgress => "idempotency_key_in_progress": "a request with this Idempotency-Key is still running",
    IdempotencyReplayWithheld => "idempotency_replay_withheld": "the request succeeded before, but its response showed a secret once and is not replayed",
    RequestTimeout => "request_timeout": "the request's head did not arrive in time; the connection is closed",
    HeadersTooLarge => "headers_too_large": "the request's head (its headers) is larger than the server accepts",
    RateLimited => "rate_limited": "too many requests to one robot or key in a short time; retry after a while",
    // Who is calling
    Unauthorized => "unauthorized": "no API key, or an unknown or revoked one",
    Forbidden => "forbidden": "the key's role may not do this",
    InvalidSignature => "invalid_signature": "a platform callback's signature is missing or does not match",
    StaleTimestamp => "stale_timestamp": "a platform callback's timestamp is too far from our clock",
    WrongReceiveId => "wrong_receive_id": "a WeCom message was encrypted for another receive id",
    Undecryptable => "undecryptable": "a WeCom message could not be decrypted",
    // The service
    InternalError => "internal_error": "an unexpected failure; the body's `request_id` finds it in the log",
    ServiceUnavailable => "service_unavailable": "the database is unreachable or busy past its wait limit; retry later",
    SecretKeyMissing => "secret_key_missing": "this server has no CHANNELDESK_SECRET_KEY, so robot and webhook secrets can be neither stored nor read: set it (the same on every replica) and restart",
    // Partners and key accounts
    PartnerNotFound => "partner_not_found": "no partner with this id is visible to the key",
    PartnerNameTaken => "partner_name_taken": "another current partner has the same name (compared after normalising)",
    PartnerArchived => "partner_archived": "the partner is archived and can no longer change",
    InvalidStatusTransition => "invalid_status_transition": "the record's lifecycle does not allow this status move",
    ContactNotFound => "contact_not_found": "the partner has no contact with this id",
    KeyAccountNotFound => "key_account_not_found": "no key account with this id",
    KeyAccountNameTaken => "key_account_name_taken": "another current key account has the same name (compared after normalising)",
    KeyAccountArchived => "key_account_archived": "the key account is archived and can no longer change",
    AssignmentNotFound => "assignment_not_found": "the key account has no assignment with this id",
    PrimaryPartnerTaken => "primary_partner_taken": "another partner is already primary for this account and product line",
    ApiKeyNotFound => "api_key_not_found": "no API key with this id",
    // Meetings
    MeetingNotFound => "meeting_not_found": "no meeting with this id is visible to the key",
    MeetingHeld => "meeting_held": "a held meeting keeps its time, timezone and partners",
    MeetingCancelled => "meeting_cancelled": "the meeting is cancelled and can no longer change",
    PartnerHasActionItems => "partner_has_action_items": "a partner with action items from the meeting cannot be removed from it",
    ActionItemNotFound => "action_item_not_found": "no action item with this id is visible to the key",
    ActionItemClosed => "action_item_closed": "the action item is done or cancelled and can no longer change",
    MeetingSeriesNotFound => "meeting_series_not_found": "no meeting series with this id is visible to the key",
    SeriesCancelled => "series_cancelled": "the series is cancelled and can no longer change",
    NoScheduledOccurrences => "no_scheduled_occurrences": "no scheduled occurrence of the series is in range of the edit",
    CalendarFeedNotFound => "calendar_feed_not_found": "no current calendar feed with this id or token (never made, revoked, or its key revoked)",
    // Bulletins
    BulletinNotFound => "bulletin_not_found": "no bulletin with this id is visible to the key",
    BulletinNotEditable => "bulletin_not_editable": "a published bulletin's content cannot change; `errors[]` names the fields",
    BulletinNotPublished => "bulletin_not_published": "the bulletin is not published, so it has no recipients to acknowledge",
    BulletinArchived => "bulletin_archived": "the bulletin is archived, which is final",
    BulletinExpired => "bulletin_expired": "the draft's expiry has passed; it cannot be published",
    NoRecipients => "no_recipients": "the audience matches no active or onboarding partner",
    RecipientNotFound => "recipient_not_found": "the partner is not a recipient of the bulletin",
    // Contracts
    ContractNotFound => "contract_not_found": "no contract with this id is visible to the key",
    ContractNumberTaken => "contract_number_taken": "another contract has this number",
    ContractNotDraft => "contract_not_draft": "only a draft contract (and its terms) can change this way",
    ContractNotActive => "contract_not_active": "only an active contract can be amended",
    ContractIncomplete => "contract_incomplete": "the contract lacks what activation needs (e.g. effective_from)",
    ContractNotRenewable => "contract_not_renewable": "only active or expired contracts can be renewed",
    ContractAlreadyRenewed => "contract_already_renewed": "the contract already has a successor",
    TermNotFound => "term_not_found": "the contract has no term with this id",
    AmendmentNotFound => "amendment_not_found": "the contract has no amendment with this id",
    // Channel evaluation
    PerformanceRecordNotFound => "performance_record_not_found": "no performance record with this id is visible to the key",
    PerformanceRecordExists => "performance_record_exists": "the partner already has a performance record for this month and product line",
    CostRecordNotFound => "cost_record_not_found": "no cost record with this id is visible to the key",
    // Competitors and recruitment
    CompetitorNotFound => "competitor_not_found": "no competitor with this id",
    CompetitorNameTaken => "competitor_name_taken": "another current competitor has the same name (compared after normalising)",
    CompetitorArchived => "competitor_archived": "the competitor is archived and can take no new observations or changes",
    ObservationNotFound => "observation_not_found": "the competitor has no observation with this id",
    TargetNotFound => "target_not_found": "no target with this id is visible to the key",
    TargetExists => "target_exists": "the partner already has a target for this period and metric",
    TargetAgreed => "target_agreed": "an agreed target is a joint commitment and no longer changes",
    // Incentives
    IncentiveProgramNotFound => "incentive_program_not_found": "no incentive program with this id is visible to the key",
    IncentiveProgramFrozen => "incentive_program_frozen": "an active incentive program changes only its name and status: close it and create another",
    IncentiveProgramClosed => "incentive_program_closed": "the incentive program is closed, which is final",
    IncentiveProgramNotCalculable => "incentive_program_not_calculable": "only active or closed rebate programs compute statements",
    IncentiveStatementNotFound => "incentive_statement_not_found": "no incentive statement with this id is visible to the key",
    IncentiveProgramNotDraft => "incentive_program_not_draft": "only a draft incentive program can be deleted",
    IncentiveProgramNotMarketingSupport => "incentive_program_not_marketing_support": "budgets and marketing support requests belong to marketing_support programs only",
    IncentiveWindowOverlaps => "incentive_window_overlaps": "the months overlap another calculation's months of the same program; calculate exactly those months, or months that do not overlap them",
    MdfRequestNotFound => "mdf_request_not_found": "no mdf request (marketing support request) with this id is visible to the key",
    BudgetExceeded => "budget_exceeded": "approving the request would commit more than the partner's remaining budget in the program",
    ClaimDeadlinePassed => "claim_deadline_passed": "the program's claim_deadline has passed: claims are no longer taken",
    ConflictNotFound => "conflict_not_found": "no conflict case with this id is visible to the key",
    // Deal registrations
    DealRegistrationNotFound => "deal_registration_not_found": "no deal registration with this id is visible to the key",
    DealConflict => "deal_conflict": "a clashing registration of the same account and product line is already approved, or was submitted earlier and is still undecided",
    RecruitmentCampaignNotFound => "recruitment_campaign_not_found": "no recruitment campaign with this id",
    RecruitmentCampaignArchived => "recruitment_campaign_archived": "the recruitment campaign is archived and can no longer change",
    // Bots, webhooks, deliveries
    BotChannelNotFound => "bot_channel_not_found": "no bot channel with this id",
    ChatIdTaken => "chat_id_taken": "another bot channel of the platform has this chat_id",
    SubscriptionNotFound => "subscription_not_found": "the bot channel has no subscription with this id",
    WebhookNotFound => "webhook_not_found": "no webhook with this id",
    DeliveryNotFound => "delivery_not_found": "no delivery with this id",
    DeliveryNotRetryable => "delivery_not_retryable": "only failed and dead deliveries can be retried",
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case_and_mean_different_things() {
        let mut texts = std::collections::BTreeSet::new();
        let mut meanings = std::collections::BTreeSet::new();
        for code in Code::ALL {
            let text = code.as_str();
            assert!(text.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{text} is not snake_case");
            assert!(texts.insert(text), "{text} is listed twice");
            assert!(meanings.insert(code.meaning()), "{text} means the same as another code");
            if text.ends_with("_not_found") {
                let what = text.trim_end_matches("_not_found").replace('_', " ");
                assert!(code.meaning().to_lowercase().contains(&what), "{text}: its meaning should name the {what}");
            }
        }
    }
}
