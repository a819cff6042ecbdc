// Top-level homeserver.yaml keys Axon reads without acting on. Real Synapse
// configs carry many; warning about every one would bury the warnings that
// matter, so the keys are sorted by what ignoring them means to an operator.

/**
 * Synapse options with no effect an operator could notice in Axon: process
 * management, Python runtime tuning, secrets for mechanisms Axon does not use
 * (macaroons, forms), stats reporting. Accepted silently.
 */
export const SILENT_SYNAPSE_KEYS: ReadonlySet<string> = new Set([
  'pid_file',
  'daemonize',
  'print_pidfile',
  'soft_file_limit',
  'use_frozen_dicts',
  'gc_thresholds',
  'gc_min_interval',
  'event_cache_size',
  'caches',
  'macaroon_secret_key',
  'macaroon_secret_key_path',
  'form_secret',
  'form_secret_path',
  'report_stats',
  'report_stats_endpoint',
  'bcrypt_rounds',
  'manhole_settings',
  'key_refresh_interval',
  'background_updates',
  'run_background_tasks_on',
  'federation_rr_transactions_per_room_per_second',
  'user_agent_suffix',
  'web_client_location',
  'worker_replication_secret',
  'worker_replication_secret_path',
  'metrics_flags',
  'dummy_events_threshold',
  'user_ips_max_age',
]);

/**
 * Synapse options (from its configuration manual) whose behaviour Axon does
 * not implement. Ignoring them may change what the server does, so each one
 * present gets a warning that says so.
 */
export const UNSUPPORTED_SYNAPSE_KEYS: ReadonlySet<string> = new Set([
  'modules', 'require_auth_for_profile_requests', 'limit_profile_requests_to_users_who_share_rooms',
  'include_profile_data_on_invite',
  'filter_timeline_limit', 'block_non_admin_invites', 'enable_search', 'manhole', 'http_proxy', 'https_proxy',
  'no_proxy_hosts', 'matrix_authentication_service', 'delete_stale_devices_after', 'email', 'max_event_delay_duration',
  'user_types', 'hs_disabled', 'hs_disabled_message', 'limit_usage_by_mau', 'max_mau_value',
  'mau_trial_days', 'mau_appservice_trial_days', 'mau_limit_alerting', 'mau_stats_only', 'mau_limit_reserved_threepids',
  'server_context', 'limit_remote_rooms', 'require_membership_for_aliases', 'max_avatar_size',
  'allowed_avatar_mimetypes', 'redaction_retention_period', 'forgotten_room_retention_period',
  'request_token_inhibit_3pid_errors', 'next_link_domain_whitelist', 'templates', 'retention',
  'federation_client_minimum_tls_version',
  'federation_whitelist_endpoint_enabled', 'federation_metrics_domains', 'allow_profile_lookup_over_federation',
  'federation', 'databases', 'enable_authenticated_media',
  'enable_media_repo', 'enable_local_media_storage', 'max_pending_media_uploads', 'unused_expiration_time',
  'media_storage_providers', 'media_upload_limits', 'max_image_pixels', 'remote_media_download_burst_count',
  'remote_media_download_per_second', 'prevent_media_downloads_from', 'dynamic_thumbnails', 'thumbnail_sizes',
  'media_retention', 'url_preview_enabled', 'url_preview_ip_range_blacklist', 'url_preview_ip_range_whitelist',
  'url_preview_url_blacklist', 'url_preview_accept_language', 'oembed', 'recaptcha_public_key',
  'recaptcha_public_key_path', 'recaptcha_private_key', 'recaptcha_private_key_path', 'enable_registration_captcha',
  'recaptcha_siteverify_api', 'turn_uris', 'turn_shared_secret', 'turn_shared_secret_path', 'turn_username',
  'turn_password', 'turn_user_lifetime', 'turn_allow_guests', 'matrix_rtc', 'registrations_require_3pid',
  'disable_msisdn_registration', 'allowed_local_3pids', 'enable_3pid_lookup', 'default_identity_server',
  'account_threepid_delegates', 'enable_set_displayname', 'enable_set_avatar_url', 'enable_3pid_changes',
  'auto_join_rooms', 'autocreate_auto_join_rooms', 'autocreate_auto_join_rooms_federated',
  'autocreate_auto_join_room_preset', 'auto_join_mxid_localpart', 'auto_join_rooms_for_guests',
  'inhibit_user_in_use_error', 'allow_underscore_prefixed_registration', 'session_lifetime',
  'ui_auth', 'sentry', 'room_prejoin_state', 'track_puppeted_user_ips', 'app_service_config_files',
  'track_appservice_user_ips', 'use_appservice_legacy_authorization', 'old_signing_keys', 'key_server_signing_keys_path',
  'saml2_config', 'oidc_providers', 'cas_config', 'sso', 'jwt_config', 'password_config', 'push',
  'encryption_enabled_by_default_for_room_type', 'user_consent', 'stats', 'server_notices',
  'enable_room_list_search', 'alias_creation_rules', 'room_list_publication_rules',
  'default_power_level_content_override', 'forget_rooms_on_leave', 'exclude_rooms_from_sync',
  'exclude_rooms_from_presence', 'opentracing', 'start_pushers', 'pusher_instances', 'send_federation',
  'federation_sender_instances', 'instance_map', 'stream_writers', 'outbound_federation_restricted_to',
  'update_user_directory_from_worker', 'notify_appservices_from_worker', 'media_instance_running_background_jobs',
  'redis', 'worker_app', 'worker_name', 'worker_listeners', 'worker_manhole', 'worker_daemonize', 'worker_pid_file',
  'worker_log_config', 'auto_accept_invites', 'extra_well_known_client_content', 'experimental_features',
  'enable_registration_token_3pid_bypass', 'perspectives',
]);
