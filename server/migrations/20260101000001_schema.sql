-- lifecert-authority: devices, nonces, certifications, the SMS outbox and the enrollment review
-- queue. Applied by the service at start-up (embedded) or with `sqlx migrate run` from server/.
--
-- Identifiers of people are subject references (HMAC-SHA256 of the ID number, 32 bytes); the ID
-- number itself is never stored. Biometric data (sealed templates, review packages) are stored
-- only sealed (AES-256-GCM) under the transport key, which lives in the service's configuration.

-- Timestamps as the API writes them: RFC 3339 in UTC, whole seconds.
CREATE FUNCTION lifecert_rfc3339(t timestamptz) RETURNS text
    LANGUAGE sql STABLE STRICT
    AS $$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') $$;

-- Who a certification SMS goes to. Filled when a device is registered with a contact; the name is
-- stored masked (张*), the mobile number in full (the SMS gateway needs it).
CREATE TABLE subjects (
    subject_ref   bytea PRIMARY KEY CHECK (length(subject_ref) = 32),
    name_masked   text,
    mobile        text,
    category      text NOT NULL DEFAULT 'provincial'
                  CHECK (category IN ('provincial', 'non_provincial')),
    language      text NOT NULL DEFAULT 'zh-Hans'
                  CHECK (language IN ('zh-Hans', 'zh-Hant', 'en')),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- A device public key (Ed25519) registered for one subject. One phone may serve several retirees
-- (a relative's phone), so the key is unique per subject, not globally.
CREATE TABLE devices (
    id            bigserial PRIMARY KEY,
    subject_ref   bytea NOT NULL REFERENCES subjects (subject_ref),
    public_key    bytea NOT NULL CHECK (length(public_key) = 32),
    registered_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (subject_ref, public_key)
);

-- Single-use server nonces, bound to a subject, a device and a certification year.
-- Consuming is `UPDATE … SET consumed_at = now() WHERE consumed_at IS NULL AND expires_at > now()`
-- in the certification's transaction: the row lock makes a concurrent second use wait and then
-- find the nonce consumed.
CREATE TABLE nonces (
    nonce              bytea PRIMARY KEY CHECK (length(nonce) = 16),
    subject_ref        bytea NOT NULL,
    device_id          bigint NOT NULL REFERENCES devices (id),
    certification_year smallint NOT NULL CHECK (certification_year BETWEEN 2000 AND 2200),
    issued_at          timestamptz NOT NULL DEFAULT now(),
    expires_at         timestamptz NOT NULL,
    consumed_at        timestamptz,
    CHECK (expires_at > issued_at)
);
-- Outstanding nonces of a device (the per-device limit) and the purge of expired ones.
CREATE INDEX nonces_outstanding ON nonces (device_id, expires_at) WHERE consumed_at IS NULL;

-- One certification per subject and year, and one per nonce: the unique keys make a double
-- certification or a double spend impossible whatever the interleaving of requests.
CREATE TABLE certifications (
    id                 bigserial PRIMARY KEY,
    subject_ref        bytea NOT NULL,
    certification_year smallint NOT NULL,
    nonce              bytea NOT NULL REFERENCES nonces (nonce),
    device_id          bigint NOT NULL REFERENCES devices (id),
    performed_by       text NOT NULL CHECK (performed_by IN ('self', 'proxy')),
    proxy_relation     text,
    evidence           jsonb NOT NULL,
    attestation        text NOT NULL,
    attestation_sha256 bytea NOT NULL CHECK (length(attestation_sha256) = 32),
    device_time        bigint NOT NULL,
    recorded_at        timestamptz NOT NULL DEFAULT now(),
    CHECK ((performed_by = 'proxy') = (proxy_relation IS NOT NULL)),
    CONSTRAINT certifications_subject_year UNIQUE (subject_ref, certification_year),
    CONSTRAINT certifications_nonce UNIQUE (nonce),
    CONSTRAINT certifications_attestation UNIQUE (attestation_sha256)
);

-- The confirmation SMS, queued in the certification's transaction and drained by a sender
-- (`FOR UPDATE SKIP LOCKED`). At most one per certification.
CREATE TABLE sms_outbox (
    id               bigserial PRIMARY KEY,
    certification_id bigint NOT NULL UNIQUE REFERENCES certifications (id),
    mobile           text NOT NULL,
    body             text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    last_error       text
);
CREATE INDEX sms_outbox_due ON sms_outbox (next_attempt_at) WHERE sent_at IS NULL;

-- Enrollment packages ("face modelling") waiting for staff review; decided within 7 days.
CREATE TABLE enrollments (
    id              bigserial PRIMARY KEY,
    subject_ref     bytea NOT NULL REFERENCES subjects (subject_ref),
    device_id       bigint NOT NULL REFERENCES devices (id),
    sealed_template bytea NOT NULL,
    package_sealed  bytea NOT NULL,
    summary         jsonb NOT NULL,
    model_file      text NOT NULL,
    model_sha256    text NOT NULL,
    submitted_at    timestamptz NOT NULL DEFAULT now(),
    deadline        timestamptz NOT NULL,
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'approved', 'refused', 'expired')),
    decided_at      timestamptz,
    reviewer        text,
    refusal_reason  text,
    refusal_message text,
    issued_template bytea,
    CHECK (deadline > submitted_at),
    CHECK ((status = 'approved') = (issued_template IS NOT NULL)),
    CHECK ((status = 'refused') = (refusal_reason IS NOT NULL)),
    CHECK ((status IN ('approved', 'refused')) = (reviewer IS NOT NULL))
);
-- At most one package per subject under review at a time.
CREATE UNIQUE INDEX enrollments_one_pending ON enrollments (subject_ref) WHERE status = 'pending';
-- The review queue, oldest deadline first.
CREATE INDEX enrollments_queue ON enrollments (deadline, id) WHERE status = 'pending';
