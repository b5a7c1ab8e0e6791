/* jwt_vectors.h - made by tests/unit/gen_jwt_vectors.py (openssl and
 * Python's standard library); do not edit. */
#define VEC_NOW 1800000000LL
#define VEC_ISS "https://auth.example.com/"
#define VEC_AUD "mqtt"
static const char VEC_JWKS[] =
	"{\n"
	" \"keys\": [\n"
	"  {\n"
	"   \"kty\": \"EC\",\n"
	"   \"crv\": \"P-256\",\n"
	"   \"kid\": \"ec1\",\n"
	"   \"x\": \"DYo-0tYNmxvikZ4Wqn_a7ReZ5lLWaPAc1N8435MboaE\",\n"
	"   \"y\": \"Ob3_3mVmUlYI1ImIR8NsB8KEfKW9bR7vM2xnqo_Ldmk\",\n"
	"   \"use\": \"sig\"\n"
	"  },\n"
	"  {\n"
	"   \"kty\": \"EC\",\n"
	"   \"crv\": \"P-256\",\n"
	"   \"kid\": \"ec2\",\n"
	"   \"x\": \"Qugj53wRO--BIWKllRguJxj_fUiAxktgDomqje9BCT4\",\n"
	"   \"y\": \"IKCf1j_-iIDvY31JUJxuCqex_pmBcfcNagv5x94MNzM\"\n"
	"  },\n"
	"  {\n"
	"   \"kty\": \"EC\",\n"
	"   \"crv\": \"P-384\",\n"
	"   \"kid\": \"ec384\",\n"
	"   \"x\": \"Gvjc2sOtZkF8HtUwA8qTLep6s0_NjfvvQ03eTGt2fqXKs-EYJbBflLax9uwU1p5V\",\n"
	"   \"y\": \"NOQmerz-5hWxY1KzghVFW6j98vPHt79zIFPGv5tUtiCcow1hGGzidGNE1IrzAkF_\"\n"
	"  },\n"
	"  {\n"
	"   \"kty\": \"RSA\",\n"
	"   \"kid\": \"rsa1\",\n"
	"   \"n\": \"pDuZ-zCyCq_OiclzA-NhHOsDF87EUZ8wUSjRL5KLGWA7fy90QoxDrRIV89h2w8LJT7vpMlGlgQsqZpWg_nhNIfZxAFsAfqPp__FXP3CwbZv7Jqrqi4oiCgUUz-It95sNPekSVHF_sUbSjEQHBWTb20BD-Sz19Z4Dpa0hI_D8Rb4TkVTLgWkQvyZgMy7QNn7SR09kNM74W4O4Ba6_HMfxfDzwc5B6VgtCWxYpfnoYR5Fi4sfQGMjfc7XA5Z9q0ifgCHCWi0F8bMHFuB6cQNVPnya5WZMPvg6OxD8TxJhPJ7iyIeiMaPUiqWJVFEEkoN9VogLQ0wgWOnD7QBETfRImQQ\",\n"
	"   \"e\": \"AQAB\"\n"
	"  },\n"
	"  {\n"
	"   \"kty\": \"OKP\",\n"
	"   \"crv\": \"Ed25519\",\n"
	"   \"kid\": \"ed1\",\n"
	"   \"x\": \"IJUpEs-3YUzzJi0gOW475P-OURzeYYj0CX2mBlguI98\"\n"
	"  },\n"
	"  {\n"
	"   \"kty\": \"oct\",\n"
	"   \"kid\": \"hmac\",\n"
	"   \"k\": \"c2VjcmV0\"\n"
	"  },\n"
	"  {\n"
	"   \"kty\": \"RSA\",\n"
	"   \"kid\": \"rsa-enc\",\n"
	"   \"n\": \"pDuZ-zCyCq_OiclzA-NhHOsDF87EUZ8wUSjRL5KLGWA7fy90QoxDrRIV89h2w8LJT7vpMlGlgQsqZpWg_nhNIfZxAFsAfqPp__FXP3CwbZv7Jqrqi4oiCgUUz-It95sNPekSVHF_sUbSjEQHBWTb20BD-Sz19Z4Dpa0hI_D8Rb4TkVTLgWkQvyZgMy7QNn7SR09kNM74W4O4Ba6_HMfxfDzwc5B6VgtCWxYpfnoYR5Fi4sfQGMjfc7XA5Z9q0ifgCHCWi0F8bMHFuB6cQNVPnya5WZMPvg6OxD8TxJhPJ7iyIeiMaPUiqWJVFEEkoN9VogLQ0wgWOnD7QBETfRImQQ\",\n"
	"   \"e\": \"AQAB\",\n"
	"   \"use\": \"enc\"\n"
	"  }\n"
	" ]\n"
	"}";
static const char VEC_JWK_RSA_SMALL[] =
	"{\"keys\": [{\"kty\": \"RSA\", \"kid\": \"small\", \"n\": \"saRzDSAUbmeKa7_TJyS2E9kN9S1U5UryM1_dBr6zcvkl7EBZbDl7yYXyNiPOyMOhZT1heB098LWUQ6t9uiN3IM_MAXa2uMDfvfIZZCGIWMY2gxhWaZv96Vhgl3pfRVI7MvSOtb2Ke9BGL4Q_re0sdhaqzLxJnrwnczEZYW2qTJs\", \"e\": \"AQAB\"}]}";
#define VEC_EC1_XY "\"x\":\"DYo-0tYNmxvikZ4Wqn_a7ReZ5lLWaPAc1N8435MboaE\",\"y\":\"Ob3_3mVmUlYI1ImIR8NsB8KEfKW9bR7vM2xnqo_Ldmk\""
#define VEC_EC1_XY_OFF "\"x\":\"DYo-0tYNmxvikZ4Wqn_a7ReZ5lLWaPAc1N8435MboaE\",\"y\":\"Ob3_3mVmUlYI1ImIR8NsB8KEfKW9bR7vM2xnqo_LdmA\""
static const char VEC_ES256_GOOD[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6ImR"
	"ldi0xIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI6MTc"
	"5OTk5OTk0MH0.SLKiezli9ij3s-dfj5Ru7nw-AGxrVRreAcAq_Z8OPePt780K5NQ"
	"ppqt_HTef-zrdvkw9QdL2CHbzm7HZZApWJg"
	;
static const char VEC_ES256_EC2[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMiJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6ImR"
	"ldi0yIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI6MTc"
	"5OTk5OTk0MH0.wydLuNZTYmK00JAKh9TJJUCBhvE96Ua01cPuwLHMmKw_6BHQxzM"
	"MMQLkYobbd9JyVGrjoQpPaSoZHCkaIwTeXA"
	;
static const char VEC_ES384_GOOD[] =
	"eyJhbGciOiJFUzM4NCIsInR5cCI6IkpXVCIsImtpZCI6ImVjMzg0In0.eyJpc3Mi"
	"OiJodHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6"
	"ImRldi0xIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI6"
	"MTc5OTk5OTk0MH0.lj-jF7q08nqiigOEtdRkFCHuRbR93st1QwFEKaWbQuzClmkI"
	"AdBsZeRevjSZTQ77If5xIns_78LDKjZrd-FLmSrbSGPI3cr1OpyG6WVY6nonYXIz"
	"oVNlGmSsTajzg-2q"
	;
static const char VEC_RS256_GOOD[] =
	"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6InJzYTEifQ.eyJpc3MiO"
	"iJodHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6I"
	"mRldi0xIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI6M"
	"Tc5OTk5OTk0MH0.jLGRmPoHtGqUP4WgRcsgCk3pkJB23C6064HrEByc3ZQKy_Klz"
	"6NzBBIuTYZnuPypT8D-2Yj99dSU12LF9yv__u0L4-idAPMpSawbk9UCuaMrdcWMT"
	"VuxJbXklfMDHTG19nDKf71ts07-uDctfiGiPRChqDFsmEt3xUgQJ0hbQXaAvH3yh"
	"RyTKDiQFTNTVvaxA9oIt1vgy-YrZLGMCceFc9wq34Za_9IKhh1qNsgXC9iIwqoCS"
	"vgpcKkba3aI13ZtpMiH1OmlKGKVQoi4VUvihSdPHE3jBI-_JTFGgdNfmnk0NnLvc"
	"mg4rPYGXRA5lHvY8JG2OC5nhyHEYX4nSDv9Iw"
	;
static const char VEC_PS256_GOOD[] =
	"eyJhbGciOiJQUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6InJzYTEifQ.eyJpc3MiO"
	"iJodHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6I"
	"mRldi0xIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI6M"
	"Tc5OTk5OTk0MH0.hQkfSczs3Lz34moVNB26jUC1mZ_ykgEQ0MiUdN2g2W1Crc6fl"
	"rmavHsjmza7P9ISUGBgO9lGo4xbOLxKTEg9pXUFonWwtcuJKwJGulC6lhrU9UrXu"
	"InXoABYy3t4Nrb-bUvfYPDCQOynkfpT6SsbNce8qbWhrDINjFiRzM4FyezEn1kxO"
	"OyxYj0-MmYtE6j6MlmSfB3EzX7Ovjppe_koEqwQ7_5SrEr8pf2fxG8g6Rrh9y6IO"
	"CJVL8U2virQzHaurt49-lgrlNjz1UXtgJ3pQKY0d3hAuma2PMhrdBQUIYABvIrgr"
	"z7wORsAZfYMI9v9PmIknG_FCvNBpFNMqfKh8g"
	;
static const char VEC_EDDSA_GOOD[] =
	"eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCIsImtpZCI6ImVkMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6ImR"
	"ldi0xIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI6MTc"
	"5OTk5OTk0MH0.7VYShPd_kr9LEho76XhUyrGaTJpVlkbuTG_phQMIJCs4b4rZeew"
	"tF-rRMdut24Is_8jrQdBvwE6aSZEwfKpaCA"
	;
static const char VEC_EDDSA_NOKID[] =
	"eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2F1dGg"
	"uZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6ImRldi0xIiwiZXhwIjo"
	"xODAwMDAzNjAwLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI6MTc5OTk5OTk0MH0.-YW"
	"zKTzB68whInH8voia5JaoIU4hOJxeH6HzxvtVhVQAv3zT09TvSkCiUJAH2Zxv5aR"
	"xgfRQhYLlCmPvreiTAg"
	;
static const char VEC_ES256_NOKID[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2F1dGg"
	"uZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6ImRldi0xIiwiZXhwIjo"
	"xODAwMDAzNjAwLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI6MTc5OTk5OTk0MH0.Wrh"
	"jC4mJ-NYM_T5lWWXO5_rWpDttq42BNIPK0z81XapcklCtoo8ggvjRqJ9nrUmzxe0"
	"NTezH8Ao9gc5SGE82_Q"
	;
static const char VEC_AT_JWT_TYP[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6ImVjMSJ9.eyJpc3M"
	"iOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI"
	"6ImRldi0xIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI"
	"6MTc5OTk5OTk0MH0.DtuSIk1oXO9yZ8BQbAzhk3iFj3gz-itQWTavHoAZ2ceKMSO"
	"kjPZsXiMRCiXG59rIpKLZMx_34QbCwrEMwEV3Fg"
	;
static const char VEC_BAD_TYP[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6ImRwb3Arand0Iiwia2lkIjoiZWMxIn0.eyJp"
	"c3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1"
	"YiI6ImRldi0xIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE3OTk5OTk5NDAsImlh"
	"dCI6MTc5OTk5OTk0MH0.p5595WsFUMx5Ctyo_oz21Hni1GAP4EbRMHGGax7pi2Wd"
	"HTQX-IRDnNEkJt97b2YrVlrJDXdrEYF-SWRNegiTJg"
	;
static const char VEC_CRIT[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSIsImNyaXQiOlsi"
	"ZXhwIl19.eyJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjo"
	"ibXF0dCIsInN1YiI6ImRldi0xIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE3OTk"
	"5OTk5NDAsImlhdCI6MTc5OTk5OTk0MH0.TZnzp-8hKu6VcpBappm1L23_JYrcfKs"
	"VQWZ8Fve0IJInf19ftUpd6dfs-PMOt-AJWE7b0ZkJ67G0l2_77tA-3g"
	;
static const char VEC_EXPIRED[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6ImR"
	"ldi0xIiwiZXhwIjoxNzk5OTk2NDAwLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI6MTc"
	"5OTk5OTk0MH0.MikUbw-cmMhTAPiNlrKvl6cKo6yl8PxNPhxsO_x3SfZrfjkmk69"
	"vb7WDh-ZXtj1x7fi2FxV6wr6UcDiK5wd6ug"
	;
static const char VEC_EXP_EDGE_OK[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6ImR"
	"ldi0xIiwiZXhwIjoxNzk5OTk5OTcxLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI6MTc"
	"5OTk5OTk0MH0._ir6NDwoZJGgwKEBDKPYmVcn8weEnouYAelfqw6frBNz_y70WrB"
	"sAPe6A5njPOarGPb_-FubKypyqEY08pGBRQ"
	;
static const char VEC_EXP_EDGE_BAD[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6ImR"
	"ldi0xIiwiZXhwIjoxNzk5OTk5OTcwLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI6MTc"
	"5OTk5OTk0MH0.opWO36V9e6uE3wdLtviw6kpZwZOpruZaLfsHL3Hs3xGjRYD7AK_"
	"hADsx0nLJM9ew1a9lPfu8R3jmkiCE-eLQ9g"
	;
static const char VEC_EXP_REAL[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6ImR"
	"ldi0xIiwiZXhwIjoxODAwMDAwMDEwLjUsIm5iZiI6MTc5OTk5OTk0MCwiaWF0Ijo"
	"xNzk5OTk5OTQwfQ.B6wBP-nqU1I4X_EsTO1q6Nwq0jSTfGekL5S7JNflOESbz6hO"
	"B_0KFAz0Fb_PG-VwLRJN61pZqcTSoxP5mWQFGw"
	;
static const char VEC_NO_EXP[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6ImR"
	"ldi0xIiwibmJmIjoxNzk5OTk5OTQwLCJpYXQiOjE3OTk5OTk5NDB9.D4pwK53B0a"
	"-TqQznpnUFS2ULoSTLYvmMX_vRCOJOSocolxBuaQ0Vl0dt3pLfqPuoGulgVViDXQ"
	"2UVhoHcG_TPw"
	;
static const char VEC_EXP_STRING[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6ImR"
	"ldi0xIiwiZXhwIjoiMTgwMDAwMDA2MCIsIm5iZiI6MTc5OTk5OTk0MCwiaWF0Ijo"
	"xNzk5OTk5OTQwfQ.bBV0XQKYFShAU3gGTogixDFRPWeab8jJWMIFsOkQH-E5rAMu"
	"Buz9xOz8aDmuK4i3vYlEb9aiU38tjMB_19zZ4w"
	;
static const char VEC_NBF_FUTURE[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6ImR"
	"ldi0xIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE4MDAwMDAwMzEsImlhdCI6MTc"
	"5OTk5OTk0MH0.fgQZrw6B06jM289XDqtDYv5YOjNWPWxso7JHp0qH9Wii2ql8ZeW"
	"tRJYi3mEB14HkchFtnfi_KIshCFNX-c5q7w"
	;
static const char VEC_NBF_EDGE_OK[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6ImR"
	"ldi0xIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE4MDAwMDAwMzAsImlhdCI6MTc"
	"5OTk5OTk0MH0.fjH830cNZuV_wyM4Uw2uhvVNQeP2TfTK6cBOwFRyz46s39P06Vw"
	"6GlNkiHcFJ0P4U_HeuIuqTz3I130-HTZ_4w"
	;
static const char VEC_WRONG_ISS[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2V2aWwuZXhhbXBsZS8iLCJhdWQiOiJtcXR0Iiwic3ViIjoiZGV2LTE"
	"iLCJleHAiOjE4MDAwMDM2MDAsIm5iZiI6MTc5OTk5OTk0MCwiaWF0IjoxNzk5OTk"
	"5OTQwfQ.zdVkcn0sx3OJDjFxH1f_WONIvCMdoYjCtKoPDCGBgXHKGXWE_bYEsaCh"
	"blBgDDHOaKgX9WuQ-AGH7QpeNf_fRg"
	;
static const char VEC_NO_ISS[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJhdWQiOiJ"
	"tcXR0Iiwic3ViIjoiZGV2LTEiLCJleHAiOjE4MDAwMDM2MDAsIm5iZiI6MTc5OTk"
	"5OTk0MCwiaWF0IjoxNzk5OTk5OTQwfQ.iiVKZ8YsARr_VkVZF8D99VfbSmcItf4Y"
	"Uw5TO5fvp-r44HK0ffr_LyrcYdPeA1fcya21AQQ_GM7o108p-J_kEQ"
	;
static const char VEC_WRONG_AUD[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoib3RoZXIiLCJzdWIiOiJ"
	"kZXYtMSIsImV4cCI6MTgwMDAwMzYwMCwibmJmIjoxNzk5OTk5OTQwLCJpYXQiOjE"
	"3OTk5OTk5NDB9.Jmh4DRvfTQX54pzMbMmEEpdCcH6ATzYecO6u_q2IGE_Jfr0n1g"
	"kic5sq5optpLZVSx-DlkhwxkGsgIQtC7Q2QA"
	;
static const char VEC_AUD_ARRAY[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjpbIm90aGVyIiwibXF0dCJ"
	"dLCJzdWIiOiJkZXYtMSIsImV4cCI6MTgwMDAwMzYwMCwibmJmIjoxNzk5OTk5OTQ"
	"wLCJpYXQiOjE3OTk5OTk5NDB9.fxZcu0IxhXHPcrhw7iaFvdEORV7QqQ0S6rhyhP"
	"YtAVxHWzw1jVxSVDmHfbaND2izF_Xvsaj9YIFIAFpSpnEIEQ"
	;
static const char VEC_AUD_ARRAY_WRONG[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjpbIm90aGVyIiwieCJdLCJ"
	"zdWIiOiJkZXYtMSIsImV4cCI6MTgwMDAwMzYwMCwibmJmIjoxNzk5OTk5OTQwLCJ"
	"pYXQiOjE3OTk5OTk5NDB9.gtREIBTuD7Ppfxf5PLmzuNlhdF0s0pSIg6QD79PDnu"
	"8MVtwRmLlCW8Fg0S2TuUb-xWg0qsQohqiedTadCNRZAA"
	;
static const char VEC_NO_SUB[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsImV4cCI6MTg"
	"wMDAwMzYwMCwibmJmIjoxNzk5OTk5OTQwLCJpYXQiOjE3OTk5OTk5NDB9.8Rno5W"
	"yTrw-SBg2x_653bciIT4oRQv9Y0kGuOMX8Ahh7BUsbHETSinUlGOC17zEYMVs09A"
	"7uIgPPnC0SEvNQNw"
	;
static const char VEC_SUB_NUMBER[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6NDI"
	"sImV4cCI6MTgwMDAwMzYwMCwibmJmIjoxNzk5OTk5OTQwLCJpYXQiOjE3OTk5OTk"
	"5NDB9.OcS9yVXr02NOU8iSLUoatoRd37blOWmJvOJyX4dHDg_PBA2OzCyif2Zp9O"
	"e5haOqdPSs4UF3vKNolR02K1e5NQ"
	;
static const char VEC_SUB_CTRL[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6ImR"
	"ldlxuMSIsImV4cCI6MTgwMDAwMzYwMCwibmJmIjoxNzk5OTk5OTQwLCJpYXQiOjE"
	"3OTk5OTk5NDB9.aVRKV45PFiZa6_SRx-CPjz3TCiskiDHKmGaI56a2AqF6PJtREA"
	"w-w9JhECiLAH9CoqF-EgW1sFqh9U5IJP8-FQ"
	;
static const char VEC_CLIENT_ID_CLAIM[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6ImR"
	"ldi0xIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI6MTc"
	"5OTk5OTk0MCwiY2xpZW50X2lkIjoiZGV2LTkifQ.PTFQOuncJztINxgEYVpylsms"
	"wVXXIqS7--r3ZYA1izC2sV4zv2LYAu5nmr63Tgo-iN6OY3V7N-K2x90ZP78v6Q"
	;
static const char VEC_UNKNOWN_KID[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6Im5vcGUifQ.eyJpc3MiO"
	"iJodHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6I"
	"mRldi0xIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI6M"
	"Tc5OTk5OTk0MH0.dnuyuLux7LtABUL-tVEGH1aSTyqdS4LVTo8OXU3CKC7jFIL0a"
	"rMLN-oh-Eki0XuCgA8jQKp8PraQ6gXF6M8AlQ"
	;
static const char VEC_WRONG_KEY_TYPE[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6InJzYTEifQ.eyJpc3MiO"
	"iJodHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6I"
	"mRldi0xIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI6M"
	"Tc5OTk5OTk0MH0.xPAX8PHdPtb0cDWPyhBnAlkwCvUg3ELqRZRSbFzML-UB4QOFD"
	"5batGArdNX9Wbcf5yhf6qSaLXsq7Qxzj0fA6w"
	;
static const char VEC_RS_ON_EC_KID[] =
	"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6ImR"
	"ldi0xIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI6MTc"
	"5OTk5OTk0MH0.DmpKjBckZ_AFjsTFpP0zbwPK_SORPlqdoj2SdousFcDHVvg0CR_"
	"I4pvJfawyUjuVIsQqUcBc2Kr60GIEcj8ZcGpOBGf253uzg8B4UduzyvSeKmqoveW"
	"omwzhEoRpdeAB16riO1KYTA-A80h8_RbKBilNb10pCl72zTe5KaRRTQRXf_axWQ8"
	"hubXn1Kk0pw5ohRVWahwD7QyazRqhVg7I0V592WOPYFyBnGMAMQwU9ZK_pIvGKld"
	"jbdqUnXfiMU-TDl43im-k14D-uSGJ65KQaSa7VCLnc9gatKslRGgvj3zv8LJhMx-"
	"jjwXg3OhbNagZG8MTZRUV4rIpQVsXwh5gpA"
	;
static const char VEC_HS256[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6ImR"
	"ldi0xIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI6MTc"
	"5OTk5OTk0MH0.Axbzsq6xv2PYf2CeSL3EF5HTXZ0ZKZM7fhb6TdLXvcNWi1JuUff"
	"q31yzOBNLaYWzNrneCJYIkyCSeOaihJxKoQ"
	;
static const char VEC_ALG_NONE_SIG[] =
	"eyJhbGciOiJub25lIiwidHlwIjoiSldUIiwia2lkIjoiZWMxIn0.eyJpc3MiOiJo"
	"dHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6ImRl"
	"di0xIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI6MTc5"
	"OTk5OTk0MH0.9EfPMXmkeaEeWgTP6eGjIYdDATphdRqGcATOGecak727z_WYNwem"
	"0_8KvOwRy6vy1MqqJBH_VOQMB2_6hCfmWg"
	;
static const char VEC_PAYLOAD_BAD_JSON[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJzdWIiOiJ"
	"kZXYtMSIs.xhAbeaFK507l_wlgaV3DBiHWFDzr5buH7TW60QC2mQU67CljSPxXBs"
	"Mx--D9N-vbKmu7_QVOB2E-tsnZ6lNWRA"
	;
static const char VEC_ENC_KEY_KID[] =
	"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6InJzYS1lbmMifQ.eyJpc"
	"3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1Y"
	"iI6ImRldi0xIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE3OTk5OTk5NDAsImlhd"
	"CI6MTc5OTk5OTk0MH0.LmZXZEl2k18Nre11bOJTBifParlbzo9DK93ITAK2XuMQP"
	"cC4I1iahG4iIFLLSKC_F1b9nU-S0clzhgW0paUX4zfKv4ZTpXyo_BmUtE1ynysbM"
	"2zx4RR7uEGJS5hVUuXvr7h1J3nw2SWkYOJt3Pb4nbb7Hz7_MAajpBXBtmrPMM3A-"
	"rIHj6D6X3dnlLdhbm5ogMc4NG5IubzSXe0NKWF0bGjvdcBkRxGdBUd1G6Qf8skAK"
	"W4D5f7lLooCHNST_CjAdwBkT_NSBhh8bOxavg16npTGELwke7pYRu1KIzWpatrK4"
	"aADyJQSFAlhevlvkomQUzQFHECJBH9lkMW8OvBznw"
	;
static const char VEC_BAD_SIG[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6ImR"
	"ldi0xIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI6MTc"
	"5OTk5OTk0MH0.SLKiezlj9ij3s-dfj5Ru7nw-AGxrVRreAcAq_Z8OPePt780K5NQ"
	"ppqt_HTef-zrdvkw9QdL2CHbzm7HZZApWJg"
	;
static const char VEC_SIG_OTHER_KEY[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6ImR"
	"ldi0xIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI6MTc"
	"5OTk5OTk0MH0.wydLuNZTYmK00JAKh9TJJUCBhvE96Ua01cPuwLHMmKw_6BHQxzM"
	"MMQLkYobbd9JyVGrjoQpPaSoZHCkaIwTeXA"
	;
static const char VEC_ALG_NONE[] =
	"eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJpc3MiOiAiaHR0cHM6Ly9hdXRo"
	"LmV4YW1wbGUuY29tLyIsICJhdWQiOiAibXF0dCIsICJzdWIiOiAiZGV2LTEiLCAi"
	"ZXhwIjogMTgwMDAwMzYwMCwgIm5iZiI6IDE3OTk5OTk5NDAsICJpYXQiOiAxNzk5"
	"OTk5OTQwfQ."
	;
static const char VEC_DUP_ALG[] =
	"eyJhbGciOiJFUzI1NiIsImtpZCI6ImVjMSIsImFsZyI6Im5vbmUifQ.eyJpc3MiO"
	"iJodHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6I"
	"mRldi0xIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI6M"
	"Tc5OTk5OTk0MH0.SLKiezli9ij3s-dfj5Ru7nw-AGxrVRreAcAq_Z8OPePt780K5"
	"NQppqt_HTef-zrdvkw9QdL2CHbzm7HZZApWJg"
	;
static const char VEC_HEADER_BAD_JSON[] =
	"eyJhbGciOiJFUzI1NiIs.eyJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20"
	"vIiwiYXVkIjoibXF0dCIsInN1YiI6ImRldi0xIiwiZXhwIjoxODAwMDAzNjAwLCJ"
	"uYmYiOjE3OTk5OTk5NDAsImlhdCI6MTc5OTk5OTk0MH0.SLKiezli9ij3s-dfj5R"
	"u7nw-AGxrVRreAcAq_Z8OPePt780K5NQppqt_HTef-zrdvkw9QdL2CHbzm7HZZAp"
	"WJg"
	;
