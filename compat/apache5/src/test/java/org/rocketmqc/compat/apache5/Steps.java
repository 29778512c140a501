package org.rocketmqc.compat.apache5;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import org.apache.rocketmq.client.exception.MQBrokerException;
import org.apache.rocketmq.client.exception.MQClientException;
import org.apache.rocketmq.remoting.netty.NettyRemotingClient;
import org.apache.rocketmq.remoting.protocol.RemotingCommand;

/**
 * The script of a cross test (the same steps against Apache's servers and ours): each step's
 * outcome as "name: outcome", the client's exceptions turned into their code and message, so
 * that the two lists can be compared line by line.
 */
final class Steps {
    interface Step {
        Object run() throws Exception;
    }

    private final List<String> out;

    Steps(List<String> out) {
        this.out = out;
    }

    void step(String name, Step st) {
        String r;
        try {
            Object v = st.run();
            r = "ok " + (v == null ? "" : v);
        } catch (MQBrokerException e) {
            r = "broker " + e.getResponseCode() + " " + e.getErrorMessage();
        } catch (MQClientException e) {
            Throwable c = e.getCause();
            r = c instanceof MQBrokerException
                ? "client " + e.getResponseCode() + " " + ((MQBrokerException) c).getErrorMessage()
                : "client " + e.getResponseCode() + " " + e.getErrorMessage();
        } catch (Exception e) {
            r = "exception " + e;
        }
        out.add(name + ": " + r);
    }

    /** A raw request with these extFields (name, value, ...) and body; the answer. */
    static RemotingCommand call(NettyRemotingClient c, String addr, int code, String body, String... ext)
        throws Exception {
        RemotingCommand req = RemotingCommand.createRequestCommand(code, null);
        HashMap<String, String> f = new HashMap<>();
        for (int i = 0; i + 1 < ext.length; i += 2) f.put(ext[i], ext[i + 1]);
        req.setExtFields(f);
        if (body != null) req.setBody(body.getBytes(StandardCharsets.UTF_8));
        return c.invokeSync(addr, req, 5000);
    }
}
