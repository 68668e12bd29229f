package dialogs

import (
	"strconv"

	"github.com/merchantbot/merchantbot/backend"
)

// Message ids the dialog uses. Ids built at run time are listed by
// DynamicIDs.
const (
	msgAccountDigits         MsgID = "account_digits"
	msgAccountLength         MsgID = "account_length"
	msgAskAccount            MsgID = "ask_account"
	msgAskBank               MsgID = "ask_bank"
	msgAskBranch             MsgID = "ask_branch"
	msgAskCard               MsgID = "ask_card"
	msgAskHolder             MsgID = "ask_holder"
	msgAskHolderCompany      MsgID = "ask_holder_company"
	msgAskMerchantNo         MsgID = "ask_merchant_no"
	msgAskPhone              MsgID = "ask_phone"
	msgAskPhoneTyped         MsgID = "ask_phone_typed"  // where no contact can be shared
	msgPendingOldCard        MsgID = "pending_old_card" // a change under review carries another card
	msgPendingOldCardNoDesk  MsgID = "pending_old_card_nodesk"
	msgNextPhoneTyped        MsgID = "next_id_phone_typed"
	msgAskReservedPhone      MsgID = "ask_reserved_phone"
	msgBankConfirm           MsgID = "bank_confirm"
	msgBound                 MsgID = "bound"
	msgBranchInvalid         MsgID = "branch_invalid"
	msgBtnAgree              MsgID = "btn_agree"
	msgBtnBankOther          MsgID = "btn_bank_other"
	msgBtnBankYes            MsgID = "btn_bank_yes"
	msgBtnCancel             MsgID = "btn_cancel"
	msgBtnChange             MsgID = "btn_change"
	msgBtnConfirm            MsgID = "btn_confirm"
	msgBtnDisagree           MsgID = "btn_disagree"
	msgBtnDiscard            MsgID = "btn_discard"
	msgBtnKeep               MsgID = "btn_keep"
	msgBtnKeepGoing          MsgID = "btn_keep_going"
	msgBtnLanguage           MsgID = "btn_language"
	msgBtnLuhnNo             MsgID = "btn_luhn_no"
	msgBtnLuhnYes            MsgID = "btn_luhn_yes"
	msgBtnNotYet             MsgID = "btn_not_yet"
	msgBtnResend             MsgID = "btn_resend"
	msgBtnResubmit           MsgID = "btn_resubmit"
	msgBtnResume             MsgID = "btn_resume"
	msgBtnRetry              MsgID = "btn_retry"
	msgBtnShareContact       MsgID = "btn_share_contact"
	msgBtnStatus             MsgID = "btn_status"
	msgBtnSupport            MsgID = "btn_support"
	msgBtnSupportBack        MsgID = "btn_support_back"
	msgBtnWhy                MsgID = "btn_why"
	msgCancelConfirm         MsgID = "cancel_confirm"
	msgCancelled             MsgID = "cancelled"
	msgCannotGoBack          MsgID = "cannot_go_back"
	msgCardAccepted          MsgID = "card_accepted"
	msgCardBank              MsgID = "card_bank"
	msgCardBankUnknown       MsgID = "card_bank_unknown"
	msgCardDigits            MsgID = "card_digits"
	msgCardLength            MsgID = "card_length"
	msgCardLuhn              MsgID = "card_luhn"
	msgCardLuhnWarn          MsgID = "card_luhn_warn"
	msgCardNotDebit          MsgID = "card_not_debit"
	msgCardTypeCompany       MsgID = "card_type_company"
	msgCardTypeUnknown       MsgID = "card_type_unknown"
	msgChangePending         MsgID = "change_pending"
	msgCheck0Company         MsgID = "check0_company"
	msgChecklist             MsgID = "checklist"
	msgChooseLanguage        MsgID = "choose_language"
	msgCodeExpired           MsgID = "code_expired"
	msgCodeFormat            MsgID = "code_format"
	msgCodeLocked            MsgID = "code_locked"
	msgCodeResent            MsgID = "code_resent"
	msgCodeSent              MsgID = "code_sent"
	msgCodeWaitFirst         MsgID = "code_wait_first"
	msgCodePaused            MsgID = "code_paused"
	msgCodePausedKept        MsgID = "code_paused_kept"
	msgCodeNeeded            MsgID = "code_needed"
	msgChangePendingStart    MsgID = "change_pending_start"
	msgAccountAccepted       MsgID = "account_accepted"
	msgCodeWait              MsgID = "code_wait"
	msgCodeWarning           MsgID = "code_warning"
	msgCodeWrong             MsgID = "code_wrong"
	msgConsent               MsgID = "consent"
	msgConsentDeclined       MsgID = "consent_declined"
	msgContactNotNow         MsgID = "contact_not_now"
	msgContactNotYours       MsgID = "contact_not_yours"
	msgCurrentAnswer         MsgID = "current_answer"
	msgDiscarded             MsgID = "discarded"
	msgExpired               MsgID = "expired"
	msgHelp                  MsgID = "help"
	msgHelpWhere             MsgID = "help_where"
	msgHolderChars           MsgID = "holder_chars"
	msgHolderLength          MsgID = "holder_length"
	msgHolderMismatch        MsgID = "holder_mismatch"
	msgHolderMismatchCompany MsgID = "holder_mismatch_company"
	msgInternal              MsgID = "internal"
	msgLangEn                MsgID = "lang_en"
	msgLangZh                MsgID = "lang_zh"
	msgLanguageSet           MsgID = "language_set"
	msgMenu                  MsgID = "menu"
	msgMerchantNoInvalid     MsgID = "merchant_no_invalid"
	msgNotYet0               MsgID = "not_yet0"
	msgNothingToCancel       MsgID = "nothing_to_cancel"
	msgPhoneInvalid          MsgID = "phone_invalid"
	msgReasonOther           MsgID = "reason_other"
	msgResumed               MsgID = "resumed"
	msgStatusNone            MsgID = "status_none"
	msgStatusNotBound        MsgID = "status_not_bound"
	msgStrayCard             MsgID = "stray_card"
	msgSubmitRetry           MsgID = "submit_retry"
	msgSubmitted             MsgID = "submitted"
	msgSummary               MsgID = "summary"
	msgSummaryEnd            MsgID = "summary_end"
	msgSummaryIncomplete     MsgID = "summary_incomplete"
	msgSupportWaiting        MsgID = "support_waiting"
	msgSupportRequested      MsgID = "support_requested"
	msgTextPlease            MsgID = "text_please"
	msgTooLong               MsgID = "too_long"
	msgTooManyRequests       MsgID = "too_many_requests"
	msgUnavailable           MsgID = "unavailable"
	msgUnknownCommand        MsgID = "unknown_command"
	msgUseButtons            MsgID = "use_buttons"
	msgUseMenu               MsgID = "use_menu"
	msgWelcome               MsgID = "welcome"

	// --- dialog correctness and effort (issue 7) ---
	msgWhichOne         MsgID = "which_one"
	msgWhatMerchantNo   MsgID = "what_merchant_no"
	msgWhatPhone        MsgID = "what_phone"
	msgWhatCode         MsgID = "what_code"
	msgWhatCard         MsgID = "what_card"
	msgWhatBank         MsgID = "what_bank"
	msgWhatBranch       MsgID = "what_branch"
	msgLookupsSpent     MsgID = "lookups_spent"
	msgIdentityMismatch MsgID = "identity_mismatch"
	msgAcquirerRefused  MsgID = "acquirer_refused"
	msgCodeWrongLast    MsgID = "code_wrong_last"
	msgProofFresh       MsgID = "proof_fresh"
	msgBtnChecksAll     MsgID = "btn_checks_all"
	msgBtnChecksBack    MsgID = "btn_checks_back"
	msgBtnCheckItem     MsgID = "btn_check_item"
	msgChecksWhich      MsgID = "checks_which"
	msgChecksConfirmed  MsgID = "checks_confirmed"
	msgChecklistFirst   MsgID = "checklist_first"
	msgBtnHolderName    MsgID = "btn_holder_name"
	msgBankNeedName     MsgID = "bank_need_name"
	msgBankUnknown      MsgID = "bank_unknown"
	msgBankClosest      MsgID = "bank_closest"
	msgBankContradicts  MsgID = "bank_contradicts"
	msgBtnBank          MsgID = "btn_bank"
	msgBtnBankTyped     MsgID = "btn_bank_typed"
	msgNameIsPhone      MsgID = "name_is_phone"
	msgNameIsNumber     MsgID = "name_is_number"
	msgBranchChars      MsgID = "branch_chars"
	msgWhy0Company      MsgID = "why0_company"
	msgNotYet0Company   MsgID = "not_yet0_company"
	msgBtnHolderCompany MsgID = "btn_holder_company"
	msgPhoneLength      MsgID = "phone_length"
	msgPhoneNotMobile   MsgID = "phone_not_mobile"
	msgAnswersGone      MsgID = "answers_gone" // lost.go
	msgFormNotNow       MsgID = "form_not_now" // form.go: the card form arrived after the chat moved on
)

// Message ids for adapters: what they say about effects and failures.
const (
	MsgMessageDeleted MsgID = "message_deleted" // the card number message was removed
	MsgDeleteFailed   MsgID = "delete_failed"   // it could not be: please delete it yourself
	MsgProgressSafe   MsgID = "progress_safe"   // an internal failure; the merchant's answers are kept
	MsgStoreDown      MsgID = "store_down"      // the update could not be stored yet (Redis away); it will be
	MsgNoSupportDesk  MsgID = "no_support_desk" // this adapter has no support desk attached
	MsgStaleButton    MsgID = "stale_button"    // a stale, forged or foreign button
	// MsgFormOffer and MsgBtnForm: the line and the button with which an
	// adapter that has a card form offers it (Reply.Form).
	MsgFormOffer MsgID = "form_offer"
	MsgBtnForm   MsgID = "btn_form"
)

// DynamicIDs lists the message ids the dialog builds at run time.
func DynamicIDs() []MsgID {
	var ids []MsgID
	for _, s := range Steps() {
		ids = append(ids, MsgID("step_"+s), MsgID("next_"+s))
	}
	for _, d := range fields(dialog()) {
		if d.field.summary != nil {
			ids = append(ids, MsgID("sum_"+d.name))
		}
		if d.field.editable {
			ids = append(ids, MsgID("btn_edit_"+d.name))
		}
	}
	for i := range checkItems {
		n := strconv.Itoa(i)
		ids = append(ids, MsgID("check_"+n), MsgID("why_"+n))
		if i > 0 {
			ids = append(ids, MsgID("notyet_"+n))
		}
	}
	for _, typ := range []string{"DC", "CC", "SCC", "PC"} {
		ids = append(ids, MsgID("cardtype_"+typ))
	}
	for _, s := range backend.Statuses() {
		ids = append(ids, MsgID("status_"+string(s)), MsgID("stage_"+string(s)), MsgID("whatnext_"+string(s)))
	}
	for _, r := range backend.Reasons() {
		ids = append(ids, MsgID("reason_"+r), MsgID("advice_"+r))
	}
	return append(ids, supportIDs()...)
}

// Message ids of notifications, /status, reminders and expiry.
const (
	msgNoteReview        MsgID = "note_under_review"
	msgNoteReviewUndated MsgID = "note_under_review_undated"
	msgNoteApproved      MsgID = "note_approved"
	msgNoteRejected      MsgID = "note_rejected"
	msgNoteEffective     MsgID = "note_effective"
	msgReasonText        MsgID = "reason_text"
	msgAdviceOther       MsgID = "advice_other"
	msgAdviceTooSoonAny  MsgID = "advice_too_soon_undated"
	msgAppHeader         MsgID = "app_header"
	msgTimelineDone      MsgID = "tl_done"
	msgTimelineExpected  MsgID = "tl_expected"
	msgTimelineTodo      MsgID = "tl_todo"
	msgStageDecision     MsgID = "stage_decision"
	msgStatusOlder       MsgID = "status_older"
	msgResubmitStart     MsgID = "resubmit_start"
	msgResubmitBusy      MsgID = "resubmit_busy"
	msgRemind            MsgID = "remind"
)

// Message ids of input refused before any step reads it.
const (
	msgUnreadable MsgID = "unreadable" // control characters or broken text
)
