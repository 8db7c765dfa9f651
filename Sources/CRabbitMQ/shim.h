#include <amqp.h>
#include <amqp_tcp_socket.h>

/* amqp_login is variadic (SASL arguments), which Swift cannot call. */
static inline amqp_rpc_reply_t sb_amqp_login_plain(amqp_connection_state_t state, const char *vhost,
                                                   int frame_max, int heartbeat,
                                                   const char *user, const char *password) {
    return amqp_login(state, vhost, 0, frame_max, heartbeat, AMQP_SASL_METHOD_PLAIN, user, password);
}
