#!/usr/bin/env escript
%% The seed's client in Erlang: gen_tcp:connect to $HALFWAY_SERVER:$HALFWAY_PORT, wait WAIT_MS, send "Ping", then
%% gen_tcp:recv with RECV_TIMEOUT_MS. Logs each call's result with the local port, as halfway cannot see them.
%% Usage: gen_tcp_client.escript WAIT_MS RECV_TIMEOUT_MS
main([Wait, Timeout]) ->
    {ok, Host} = inet:parse_address(os:getenv("HALFWAY_SERVER")),
    Port = list_to_integer(os:getenv("HALFWAY_PORT")),
    case gen_tcp:connect(Host, Port, [binary, {active, false}], 10000) of
        {ok, Socket} ->
            {ok, {_, Local}} = inet:sockname(Socket),
            io:format("connect ok port ~b~n", [Local]),
            timer:sleep(list_to_integer(Wait)),
            io:format("send ~p~n", [gen_tcp:send(Socket, <<"Ping">>)]),
            io:format("recv ~p~n", [gen_tcp:recv(Socket, 0, list_to_integer(Timeout))]),
            gen_tcp:close(Socket);
        {error, Reason} ->
            io:format("connect error ~p~n", [Reason]),
            halt(1)
    end;
main(_) ->
    io:format(standard_error, "usage: gen_tcp_client.escript WAIT_MS RECV_TIMEOUT_MS~n", []),
    halt(2).
