package bot

import (
	"testing"

	"github.com/merchantbot/merchantbot/dialogs/store/redistest"
)

// TestPipelineOnCluster runs the pipeline's tests that matter on a
// 3-master Redis Cluster (REDIS_CLUSTER_ADDRS; .ci/run starts one): whole
// dialogs, dedupe of a redelivered update, a card number's deletion, double
// taps, a failing update retried, a chat that blocked the bot, a hand-off
// to the support group (its calls relayed to the group's shard) and a
// webhook's updates; the notifier's status events (merchant index and wake
// sets per shard), and no card number in clear on any master. Any script or transaction across slots fails them
// (CROSSSLOT), as does a key the sweep cannot find.
func TestPipelineOnCluster(t *testing.T) {
	redistest.Cluster(t) // skipped, or failed under CI, without a cluster
	onCluster = true
	defer func() { onCluster = false }()
	for name, f := range map[string]func(*testing.T){
		"DoubleTapAndStaleButton":                 TestDoubleTapAndStaleButton,
		"CardMessageDeleted":                      TestCardMessageDeleted,
		"PassingFailureRetried":                   TestPassingFailureRetried,
		"Unblock":                                 TestUnblock,
		"UnblockByMessage":                        TestUnblockByMessage,
		"HandOffThroughThePipeline":               TestHandOffThroughThePipeline,
		"RedeliveredUpdateNotAppliedTwice":        TestRedeliveredUpdateNotAppliedTwice,
		"WebhookHandler":                          TestWebhookHandler,
		"ReminderHeldUpIntoQuietHours":            TestReminderHeldUpIntoQuietHours,
		"StatusEventReachesTheMerchantOnce":       TestStatusEventReachesTheMerchantOnce,
		"StatusEventSurvivesACrash":               TestStatusEventSurvivesACrash,
		"BlockedMerchantHearsTheNewestStatusOnly": TestBlockedMerchantHearsTheNewestStatusOnly,
		"NoNumberReadableInTheGroupOrRedis":       TestNoNumberReadableInTheGroupOrRedis,
	} {
		t.Run(name, f)
	}
}
