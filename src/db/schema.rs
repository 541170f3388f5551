//! The tables, written once for both backends (portable SQL types only): the migrations of both
//! backends must produce exactly these columns.

diesel::table! {
    api_keys (id) {
        id -> Text,
        name -> Text,
        role -> Text,
        partner_id -> Nullable<Text>,
        prefix -> Text,
        secret_hash -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    partners (id) {
        id -> Text,
        name -> Text,
        name_key -> Text,
        channel_type -> Text,
        kind -> Text,
        tier -> Text,
        status -> Text,
        region -> Nullable<Text>,
        territories -> Text,
        industries -> Text,
        owner -> Nullable<Text>,
        next_review_at -> Nullable<Timestamp>,
        notes -> Nullable<Text>,
        source -> Nullable<Text>,
        campaign_id -> Nullable<Text>,
        activated_at -> Nullable<Timestamp>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        archived_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    partner_territories (territory, partner_id) {
        partner_id -> Text,
        territory -> Text,
    }
}

diesel::table! {
    partner_contacts (id) {
        id -> Text,
        partner_id -> Text,
        name -> Text,
        title -> Nullable<Text>,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        wecom_userid -> Nullable<Text>,
        dingtalk_userid -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    key_accounts (id) {
        id -> Text,
        name -> Text,
        industry -> Nullable<Text>,
        region -> Nullable<Text>,
        owner -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        archived_at -> Nullable<Timestamp>,
        name_key -> Nullable<Text>,
    }
}

diesel::table! {
    key_account_assignments (id) {
        id -> Text,
        key_account_id -> Text,
        partner_id -> Text,
        role -> Text,
        product_lines -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    key_account_primary_lines (key_account_id, product_line) {
        key_account_id -> Text,
        product_line -> Text,
        assignment_id -> Text,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        occurred_at -> Timestamp,
        actor_key_id -> Text,
        actor_name -> Text,
        action -> Text,
        resource_type -> Text,
        resource_id -> Text,
        changes -> Text,
        request_id -> Nullable<Text>,
    }
}

diesel::table! {
    events (id) {
        id -> Text,
        event_type -> Text,
        occurred_at -> Timestamp,
        resource_type -> Text,
        resource_id -> Text,
        partner_id -> Nullable<Text>,
        payload -> Text,
    }
}

diesel::table! {
    outbox_pending (event_id) {
        event_id -> Text,
    }
}

diesel::table! {
    event_keys (event_key) {
        event_key -> Text,
        event_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (scope, idempotency_key) {
        scope -> Text,
        idempotency_key -> Text,
        request_hash -> Text,
        status_code -> Nullable<Integer>,
        response_headers -> Nullable<Text>,
        response_body -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(partner_territories -> partners (partner_id));
diesel::joinable!(partner_contacts -> partners (partner_id));
diesel::joinable!(key_account_assignments -> key_accounts (key_account_id));
diesel::joinable!(key_account_assignments -> partners (partner_id));

diesel::allow_tables_to_appear_in_same_query!(
    api_keys,
    partners,
    partner_territories,
    partner_contacts,
    key_accounts,
    key_account_assignments,
    key_account_primary_lines,
    audit_events,
    events,
    outbox_pending,
    event_keys,
    idempotency_keys,
    bulletins,
    bulletin_recipients,
    meeting_series,
    meetings,
    calendar_feeds,
    meeting_partners,
    action_items,
    bot_channels,
    bot_subscriptions,
    webhooks,
    deliveries,
    bot_send_log,
    notify_state,
    bot_inbound,
);

diesel::table! {
    bulletins (id) {
        id -> Text,
        title -> Text,
        title_key -> Text,
        body -> Text,
        body_key -> Text,
        category -> Text,
        importance -> Text,
        audience -> Text,
        attachments -> Text,
        pinned -> Bool,
        expires_at -> Nullable<Timestamp>,
        status -> Text,
        recipient_count -> BigInt,
        published_at -> Nullable<Timestamp>,
        archived_at -> Nullable<Timestamp>,
        sort_at -> Timestamp,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    bulletin_recipients (bulletin_id, partner_id) {
        bulletin_id -> Text,
        partner_id -> Text,
        pinned -> Bool,
        published_at -> Timestamp,
        acknowledged -> Bool,
        read_at -> Nullable<Timestamp>,
        contact_id -> Nullable<Text>,
        contact_name -> Nullable<Text>,
        recorded_by -> Nullable<Text>,
        on_behalf -> Bool,
        version -> BigInt,
    }
}

// ---- meetings ----

diesel::table! {
    meeting_series (id) {
        id -> Text,
        template -> Text,
        rule -> Text,
        status -> Text,
        cancel_reason -> Nullable<Text>,
        cancelled_at -> Nullable<Timestamp>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    meetings (id) {
        id -> Text,
        series_id -> Nullable<Text>,
        title -> Text,
        kind -> Text,
        partner_ids -> Text,
        key_account_id -> Nullable<Text>,
        organizer -> Text,
        organizer_email -> Nullable<Text>,
        attendees -> Text,
        agenda -> Text,
        location -> Nullable<Text>,
        online_url -> Nullable<Text>,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        timezone -> Text,
        status -> Text,
        minutes -> Nullable<Text>,
        decisions -> Text,
        cancel_reason -> Nullable<Text>,
        held_at -> Nullable<Timestamp>,
        cancelled_at -> Nullable<Timestamp>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    meeting_partners (meeting_id, partner_id) {
        meeting_id -> Text,
        partner_id -> Text,
        starts_at -> Timestamp,
    }
}

diesel::table! {
    action_items (id) {
        id -> Text,
        meeting_id -> Text,
        title -> Text,
        owner -> Text,
        partner_id -> Text,
        due_date -> Nullable<Text>,
        due_sort -> Text,
        overdue_at -> Nullable<Timestamp>,
        overdue_notified_at -> Nullable<Timestamp>,
        status -> Text,
        done_at -> Nullable<Timestamp>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    calendar_feeds (id) {
        id -> Text,
        api_key_id -> Text,
        token_hash -> Text,
        filters -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(calendar_feeds -> api_keys (api_key_id));
diesel::joinable!(meetings -> meeting_series (series_id));
diesel::joinable!(meeting_partners -> meetings (meeting_id));
diesel::joinable!(action_items -> meetings (meeting_id));

// ---- contracts ----

diesel::table! {
    contracts (id) {
        id -> Text,
        partner_id -> Text,
        number -> Text,
        number_key -> Text,
        title -> Text,
        title_key -> Text,
        kind -> Text,
        status -> Text,
        signed_at -> Nullable<Timestamp>,
        effective_from -> Nullable<Text>,
        effective_to -> Nullable<Text>,
        auto_renew -> Bool,
        renewal_notice_days -> Integer,
        total_value -> Nullable<BigInt>,
        currency -> Text,
        owner -> Nullable<Text>,
        notes -> Nullable<Text>,
        predecessor_id -> Nullable<Text>,
        successor_id -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    contract_terms (id) {
        id -> Text,
        contract_id -> Text,
        kind -> Text,
        title -> Text,
        text -> Text,
        obligated_party -> Text,
        params -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    contract_amendments (id) {
        id -> Text,
        contract_id -> Text,
        number -> Integer,
        reason -> Text,
        changes -> Text,
        actor_key_id -> Text,
        actor_name -> Text,
        contract_version -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    contract_open_risks (risk_key) {
        risk_key -> Text,
        code -> Text,
        contract_id -> Text,
        opened_at -> Timestamp,
    }
}

diesel::joinable!(contracts -> partners (partner_id));
diesel::joinable!(contract_terms -> contracts (contract_id));
diesel::joinable!(contract_amendments -> contracts (contract_id));

diesel::allow_tables_to_appear_in_same_query!(
    contracts,
    contract_terms,
    contract_amendments,
    contract_open_risks,
    partners,
);

// ---- notify and bots ----

diesel::table! {
    bot_channels (id) {
        id -> Text,
        platform -> Text,
        name -> Text,
        webhook_url -> Text,
        secret -> Nullable<Text>,
        keyword -> Nullable<Text>,
        enabled -> Bool,
        partner_id -> Nullable<Text>,
        chat_id -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    bot_subscriptions (id) {
        id -> Text,
        channel_id -> Text,
        event_types -> Text,
        partner_tiers -> Text,
        regions -> Text,
        partner_ids -> Text,
        min_importance -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Text,
        name -> Text,
        url -> Text,
        secret -> Text,
        event_types -> Text,
        enabled -> Bool,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    deliveries (id) {
        id -> Text,
        seq -> BigInt,
        event_id -> Text,
        event_type -> Text,
        target_kind -> Text,
        target_id -> Text,
        status -> Text,
        attempts -> Integer,
        parts_total -> Integer,
        parts_sent -> Integer,
        body -> Text,
        next_attempt_at -> Timestamp,
        lease_until -> Nullable<Timestamp>,
        lease_token -> Nullable<Text>,
        last_attempt_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        last_http_status -> Nullable<Integer>,
        last_errcode -> Nullable<BigInt>,
        sent_at -> Nullable<Timestamp>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        first_attempt_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    bot_send_log (id) {
        id -> Text,
        target_id -> Text,
        sent_at -> Timestamp,
    }
}

diesel::table! {
    notify_state (name) {
        name -> Text,
        next_seq -> BigInt,
    }
}

diesel::table! {
    bot_inbound (platform, msg_id) {
        platform -> Text,
        msg_id -> Text,
        reply -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    data_upgrades (name) {
        name -> Text,
        applied_at -> Timestamp,
        changed -> BigInt,
    }
}

diesel::joinable!(bot_subscriptions -> bot_channels (channel_id));

// ---- performance (channel evaluation) ----

diesel::table! {
    performance_records (id) {
        id -> Text,
        partner_id -> Text,
        period -> Text,
        product_line -> Nullable<Text>,
        line_key -> Text,
        revenue_minor -> BigInt,
        currency -> Text,
        units -> BigInt,
        orders -> BigInt,
        new_customers -> BigInt,
        customer_satisfaction -> Nullable<Integer>,
        market_share_bp -> Nullable<Integer>,
        notes -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    cost_records (id) {
        id -> Text,
        partner_id -> Text,
        period -> Text,
        category -> Text,
        amount_minor -> BigInt,
        currency -> Text,
        notes -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(performance_records -> partners (partner_id));
diesel::joinable!(cost_records -> partners (partner_id));
diesel::allow_tables_to_appear_in_same_query!(performance_records, cost_records, partners);

// ---- competitors ----

diesel::table! {
    competitors (id) {
        id -> Text,
        name -> Text,
        name_key -> Text,
        website -> Nullable<Text>,
        notes -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        archived_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    competitor_observations (id) {
        id -> Text,
        competitor_id -> Text,
        region -> Nullable<Text>,
        channel_type -> Nullable<Text>,
        kind -> Nullable<Text>,
        partner_names -> Text,
        market_share_bp -> Nullable<BigInt>,
        price_position -> Nullable<Text>,
        strategy -> Nullable<Text>,
        observed_on -> Text,
        source -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(competitor_observations -> competitors (competitor_id));

diesel::allow_tables_to_appear_in_same_query!(competitors, competitor_observations);

diesel::table! {
    targets (id) {
        id -> Text,
        partner_id -> Text,
        period -> Text,
        first_month -> Text,
        last_month -> Text,
        metric -> Text,
        target_value -> BigInt,
        meeting_id -> Nullable<Text>,
        status -> Text,
        agreed_at -> Nullable<Timestamp>,
        settled_at -> Nullable<Timestamp>,
        missed -> Bool,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(targets -> partners (partner_id));
diesel::allow_tables_to_appear_in_same_query!(targets, partners);
// ---- recruitment ----

diesel::table! {
    recruitment_campaigns (id) {
        id -> Text,
        name -> Text,
        kind -> Text,
        starts_on -> Text,
        ends_on -> Nullable<Text>,
        region -> Nullable<Text>,
        cost_minor -> BigInt,
        currency -> Text,
        notes -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        archived_at -> Nullable<Timestamp>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(recruitment_campaigns, partners);

// ---- incentives ----

diesel::table! {
    incentive_programs (id) {
        id -> Text,
        name -> Text,
        kind -> Text,
        from_month -> Text,
        to_month -> Text,
        audience -> Text,
        currency -> Text,
        status -> Text,
        rules -> Text,
        activated_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    incentive_statements (id) {
        id -> Text,
        program_id -> Text,
        partner_id -> Text,
        kind -> Text,
        from_month -> Text,
        to_month -> Text,
        currency -> Text,
        lines -> Text,
        total_minor -> BigInt,
        status -> Text,
        approved_at -> Nullable<Timestamp>,
        paid_at -> Nullable<Timestamp>,
        cost_record_id -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(incentive_statements -> incentive_programs (program_id));
diesel::joinable!(incentive_statements -> partners (partner_id));
diesel::allow_tables_to_appear_in_same_query!(incentive_programs, incentive_statements, partners);

diesel::table! {
    mdf_requests (id) {
        id -> Text,
        program_id -> Text,
        partner_id -> Text,
        activity -> Text,
        title -> Text,
        description -> Nullable<Text>,
        planned_on -> Text,
        amount_minor -> BigInt,
        currency -> Text,
        status -> Text,
        decision_reason -> Nullable<Text>,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        actual_minor -> Nullable<BigInt>,
        proof_urls -> Text,
        claimed_at -> Nullable<Timestamp>,
        claim_rejection_reason -> Nullable<Text>,
        paid_at -> Nullable<Timestamp>,
        cost_record_id -> Nullable<Text>,
        submitted_by -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(mdf_requests -> incentive_programs (program_id));
diesel::joinable!(mdf_requests -> partners (partner_id));
diesel::allow_tables_to_appear_in_same_query!(mdf_requests, incentive_programs);
diesel::allow_tables_to_appear_in_same_query!(mdf_requests, partners);

diesel::table! {
    conflicts (id) {
        id -> Text,
        kind -> Text,
        cause -> Text,
        severity -> Text,
        status -> Text,
        summary -> Text,
        party_partner_ids -> Text,
        involves_direct -> Bool,
        key_account_id -> Nullable<Text>,
        territories -> Text,
        product_lines -> Text,
        fingerprint -> Nullable<Text>,
        previous_conflict_id -> Nullable<Text>,
        resolution -> Nullable<Text>,
        resolved_by -> Nullable<Text>,
        resolved_at -> Nullable<Timestamp>,
        condition_cleared_at -> Nullable<Timestamp>,
        opened_by -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    conflict_parties (conflict_id, partner_id) {
        conflict_id -> Text,
        partner_id -> Text,
    }
}

diesel::table! {
    conflict_links (conflict_id, kind, ref_id) {
        conflict_id -> Text,
        kind -> Text,
        ref_id -> Text,
        partner_id -> Nullable<Text>,
    }
}

diesel::table! {
    conflict_comments (id) {
        id -> Text,
        conflict_id -> Text,
        body -> Text,
        internal -> Bool,
        author -> Text,
        author_partner_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(conflict_parties -> conflicts (conflict_id));
diesel::joinable!(conflict_links -> conflicts (conflict_id));
diesel::joinable!(conflict_comments -> conflicts (conflict_id));
diesel::allow_tables_to_appear_in_same_query!(conflicts, conflict_parties);
diesel::allow_tables_to_appear_in_same_query!(conflicts, conflict_links);
diesel::allow_tables_to_appear_in_same_query!(conflicts, conflict_comments);
diesel::allow_tables_to_appear_in_same_query!(conflict_parties, partners);

diesel::table! {
    deal_registrations (id) {
        id -> Text,
        partner_id -> Text,
        key_account_id -> Nullable<Text>,
        prospect_name -> Nullable<Text>,
        credit_code -> Nullable<Text>,
        prospect_region -> Nullable<Text>,
        account_name -> Text,
        account_key -> Text,
        product_lines -> Text,
        estimated_value_minor -> BigInt,
        currency -> Text,
        expected_close_on -> Text,
        description -> Nullable<Text>,
        status -> Text,
        decision_reason -> Nullable<Text>,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        protected_until -> Nullable<Timestamp>,
        extension_reason -> Nullable<Text>,
        closed_at -> Nullable<Timestamp>,
        submitted_by -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    deal_registration_lines (registration_id, line_key) {
        registration_id -> Text,
        line_key -> Text,
    }
}

diesel::joinable!(deal_registrations -> partners (partner_id));
diesel::joinable!(deal_registration_lines -> deal_registrations (registration_id));
diesel::allow_tables_to_appear_in_same_query!(deal_registrations, partners);
diesel::allow_tables_to_appear_in_same_query!(deal_registrations, deal_registration_lines);
