package org.rocketmqc.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.LocalTransactionState;
import org.apache.rocketmq.client.producer.TransactionListener;
import org.apache.rocketmq.client.producer.TransactionMQProducer;
import org.apache.rocketmq.client.producer.TransactionSendResult;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.junit.jupiter.api.Test;

/**
 * TransactionMQProducer: a committed half message is delivered, a rolled back one never is,
 * and one left UNKNOW is resolved by the broker's check-back (CHECK_TRANSACTION_STATE).
 */
class TransactionTest extends CompatBase {

    @Test
    void commitDeliversRollbackDropsAndCheckBackResolvesUnknown() throws Exception {
        createTopic("JavaTxTopic", 2);
        List<String> checked = new CopyOnWriteArrayList<>();
        TransactionMQProducer p = setup(new TransactionMQProducer("PG_java_tx"), "tx");
        p.setTransactionListener(new TransactionListener() {
            @Override
            public LocalTransactionState executeLocalTransaction(Message msg, Object arg) {
                return LocalTransactionState.valueOf((String) arg);
            }

            @Override
            public LocalTransactionState checkLocalTransaction(MessageExt msg) {
                checked.add(new String(msg.getBody(), StandardCharsets.UTF_8));
                return LocalTransactionState.COMMIT_MESSAGE;
            }
        });
        p.start();
        closeLater(p, p::shutdown);

        List<String> got = new CopyOnWriteArrayList<>();
        DefaultMQPushConsumer c = setup(new DefaultMQPushConsumer("CG_java_tx"), "tx-consumer");
        c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        c.subscribe("JavaTxTopic", "*");
        c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            for (MessageExt m : msgs) got.add(new String(m.getBody(), StandardCharsets.UTF_8));
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        c.start();
        closeLater(c, c::shutdown);

        for (String outcome : new String[] {"COMMIT_MESSAGE", "ROLLBACK_MESSAGE", "UNKNOW"}) {
            TransactionSendResult r = p.sendMessageInTransaction(
                new Message("JavaTxTopic", "T", outcome.getBytes(StandardCharsets.UTF_8)), outcome);
            assertEquals(outcome, r.getLocalTransactionState().name());
        }
        // transactionTimeOut / transactionCheckInterval are 1 s in Servers.
        await(() -> got.contains("UNKNOW"), 30, () -> "the checked-back message, got " + got + ", checked " + checked);
        Thread.sleep(2000); // a rolled back message, or a second copy, would arrive by now
        List<String> sorted = new ArrayList<>(got);
        Collections.sort(sorted);
        assertEquals(List.of("COMMIT_MESSAGE", "UNKNOW"), sorted);
        assertTrue(!checked.isEmpty() && checked.stream().allMatch("UNKNOW"::equals),
            "check-back asked about the UNKNOW message only: " + checked);
    }
}
