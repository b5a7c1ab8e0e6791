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
	"   \"use\": \"sig\",\n"
	"   \"x\": \"eq8LPcsT37nSqmb9KokJlRR7XsCm_gn4YNMy4zIpWH0\",\n"
	"   \"y\": \"s6vwIlnggT168L8vYUHGxlHpNkq8dZuSEzgkJlnqVRE\"\n"
	"  },\n"
	"  {\n"
	"   \"kty\": \"EC\",\n"
	"   \"crv\": \"P-256\",\n"
	"   \"kid\": \"ec2\",\n"
	"   \"use\": \"sig\",\n"
	"   \"x\": \"hnp0r9x5uFg7PKHDcz26HwYeIKvzKt2WxERiYefLMIk\",\n"
	"   \"y\": \"n9mSnZ3yz0Mj0isctJCmg5COyF_XFmr95_yNcF_v7fk\"\n"
	"  },\n"
	"  {\n"
	"   \"kty\": \"EC\",\n"
	"   \"crv\": \"P-384\",\n"
	"   \"kid\": \"ec384\",\n"
	"   \"use\": \"sig\",\n"
	"   \"x\": \"Bedzz_M16-FJweEgmBM4_x3Eo9y3pB5_-JgJXiiUYP_9NJqrpV-r3i_89cpr7trZ\",\n"
	"   \"y\": \"oMvG7jF7IQDOLnDQZK6NBP65w5MspxtXuFLhVgZ3LWLvnnihIfbDWARqfPsjLQLA\"\n"
	"  },\n"
	"  {\n"
	"   \"kty\": \"RSA\",\n"
	"   \"kid\": \"rsa1\",\n"
	"   \"n\": \"m4BggDHyN1QfvnSbAPm_vLezgGcsnjbaWP1Fr6g8Z1xlK8yVgtDnQ2L0946U3jvHFLXkPaP0YqyqaQoNNGrJwY5jh1pQjiWBcbN2xrHwmfQNgjYlecHfzAFYleqQvGI8ELbdF-Ht9JApExYZj6PimzNr07TOqRAE7oIlzNgCXdt-UjZFTSxARMT4ngIwI4eVXHrPwKp6Pd1HikgAAtYZNTFdFhzx8NeXRgYT0pgxxWoXo2od1Oh097QJZAO53h0oZairKB-qFeg71on16tcFkP0wsdJlcwYkOEnsCSculNtiufxw2Fh3l4wHNI91Uml7MKXRuyqzK81pLi5Er9DjUw\",\n"
	"   \"e\": \"AQAB\"\n"
	"  },\n"
	"  {\n"
	"   \"kty\": \"OKP\",\n"
	"   \"crv\": \"Ed25519\",\n"
	"   \"kid\": \"ed1\",\n"
	"   \"x\": \"7Rinnym5fRjNHwtM8HmyU7VhXv8ukM5KvFGkXK_-iwE\"\n"
	"  },\n"
	"  {\n"
	"   \"kty\": \"oct\",\n"
	"   \"kid\": \"hmac\",\n"
	"   \"k\": \"c2VjcmV0\"\n"
	"  },\n"
	"  {\n"
	"   \"kty\": \"RSA\",\n"
	"   \"kid\": \"rsa-enc\",\n"
	"   \"n\": \"m4BggDHyN1QfvnSbAPm_vLezgGcsnjbaWP1Fr6g8Z1xlK8yVgtDnQ2L0946U3jvHFLXkPaP0YqyqaQoNNGrJwY5jh1pQjiWBcbN2xrHwmfQNgjYlecHfzAFYleqQvGI8ELbdF-Ht9JApExYZj6PimzNr07TOqRAE7oIlzNgCXdt-UjZFTSxARMT4ngIwI4eVXHrPwKp6Pd1HikgAAtYZNTFdFhzx8NeXRgYT0pgxxWoXo2od1Oh097QJZAO53h0oZairKB-qFeg71on16tcFkP0wsdJlcwYkOEnsCSculNtiufxw2Fh3l4wHNI91Uml7MKXRuyqzK81pLi5Er9DjUw\",\n"
	"   \"e\": \"AQAB\",\n"
	"   \"use\": \"enc\"\n"
	"  }\n"
	" ]\n"
	"}";
static const char VEC_JWK_RSA_SMALL[] =
	"{\"keys\": [{\"kty\": \"RSA\", \"kid\": \"small\", \"n\": \"44P5gBkngLqvvOcG9doREBO4keXIfiWB5ix6Gj-CAxajA7kzJDHxIF_QMwJHBC37FZG3AQFvlnUpzm5PTxOD_pkUqPzYfT1kOu1FqG6wBJ8H1iLpztXxriMtVfTQQIg6a4fjineJNFzeO85XghGXj_YlQ-VU3f2xJUTCqBRb3tM\", \"e\": \"AQAB\"}]}";
static const char VEC_JWK_EC1[] =
	"{\"kty\": \"EC\", \"crv\": \"P-256\", \"kid\": \"ec1\", \"use\": \"sig\", \"x\": \"eq8LPcsT37nSqmb9KokJlRR7XsCm_gn4YNMy4zIpWH0\", \"y\": \"s6vwIlnggT168L8vYUHGxlHpNkq8dZuSEzgkJlnqVRE\"}";
static const char VEC_ES256_GOOD[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6ImR"
	"ldi0xIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI6MTc"
	"5OTk5OTk0MH0.wg2LDbJCQY9YZRJOUgwyTYpEZ3INWdKZDrHil8p8tlz2YdI1skq"
	"EDZhEqctPvL19WXNUzJ2gPgD2dDXt3hDHZw"
	;
static const char VEC_ES256_EC2[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMiJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6ImR"
	"ldi0yIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI6MTc"
	"5OTk5OTk0MH0.R4PvPL4rB4tNm6_X-zQKKMmWZa_1zur4RlOCH1JTqPyms3qHiau"
	"SjIoVxa92pjvz7spyAYg3jNJgPp9cULxNDw"
	;
static const char VEC_ES384_GOOD[] =
	"eyJhbGciOiJFUzM4NCIsInR5cCI6IkpXVCIsImtpZCI6ImVjMzg0In0.eyJpc3Mi"
	"OiJodHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6"
	"ImRldi0xIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI6"
	"MTc5OTk5OTk0MH0.6UePcMc8krWUIpyOhWQsEAJjPtEwNHHM1PvGbR0tK1EHHZQf"
	"C6erZ7_IRg7fKWRO7wOMit1RP6Pz2P0imOCQLNpn52MOvO2kwquF1pGT6zQA-X0_"
	"tG-Vu9dxQlmEl7ur"
	;
static const char VEC_RS256_GOOD[] =
	"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6InJzYTEifQ.eyJpc3MiO"
	"iJodHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6I"
	"mRldi0xIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI6M"
	"Tc5OTk5OTk0MH0.JbFLEppZhptmIVd_Yz24ffVZnisyfHTTmtPtfVmbLamqJxdx2"
	"0GyZBWqqB-7Y3zzZ6vb2dVwdv4J_UF67l6ox_sUXqQ1ohWLQAVswieB9TC_D2j_P"
	"8c5qmawRsrXnQV42vKaFigacxnjJgSCSSe7-pouSBV5Qt_aG9gpiMiv04kSa01mX"
	"0nGw42l4OnjjnaA8fjKM7tnDvfBdwRj02zfnptPfIz_49eUODZ2RWlyCs1prpBAg"
	"DiP2ll9IoV1Mi6vcoD5lU56x3tcF9rSYMfHr69HHoCViJgiiyHTYgDVKVGH5EWUU"
	"KPVMLXzNQztPYzkLnd4JPwYzChpqeO1-SKaIw"
	;
static const char VEC_PS256_GOOD[] =
	"eyJhbGciOiJQUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6InJzYTEifQ.eyJpc3MiO"
	"iJodHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6I"
	"mRldi0xIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI6M"
	"Tc5OTk5OTk0MH0.WgTSN1shh4Nxp9hPM1Vwo_bJg0WVNLeH4g748dtatwbOAI7YE"
	"8yVK1iiGb73MnDtTFGcoA3vQkjsYH4gmTTzNZ6M_TepuSmb-tiQdvQ4vhuCs4qna"
	"9P-i1tlmQ74-6lX9Kc7jr31CsMnuZDZSkJeYfL88ulOIfKjxAUqgIIZ_kgslQVOr"
	"09O8_pdg_vRRVT1WPw5A67txKGppqhpwS52kkjzpZnCPTPrVvv2MUS2jMByamkw3"
	"1mhlei36WYjIIVtxYlWuL56RYXgSORtIF3pk2vdWJ9MHWuV6_Aq5YUXfP1oKdiPW"
	"VtxCRQ2oX7BWEHjxf2naVBrUI25n6lcLT9Xlg"
	;
static const char VEC_EDDSA_GOOD[] =
	"eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCIsImtpZCI6ImVkMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6ImR"
	"ldi0xIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI6MTc"
	"5OTk5OTk0MH0.SMeWE0gj_2y9InICHph5TYNxrQ3cYfNfvIQtgFVx_jx7X3Cdz86"
	"MOloZ8p4mPxPoeMyZylsb4bK1d7hIvVLQAg"
	;
static const char VEC_EDDSA_NOKID[] =
	"eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2F1dGg"
	"uZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6ImRldi0xIiwiZXhwIjo"
	"xODAwMDAzNjAwLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI6MTc5OTk5OTk0MH0.zBI"
	"mQZ74cAe_G2rTLQSNgcKoIpqEQRgzm1qCOoq8jVpjxdh3eAt2qRHBWDJl4Kkx3Jl"
	"sCgO0KcMVs_mgaFNPBg"
	;
static const char VEC_ES256_NOKID[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2F1dGg"
	"uZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6ImRldi0xIiwiZXhwIjo"
	"xODAwMDAzNjAwLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI6MTc5OTk5OTk0MH0.K7I"
	"iC9uDB07kjJ_ynobIpI36_QimbuVEOjmD1ew4Lbcltj-_TapKyitxsIOV4xKVpop"
	"v5nw4svYDHnIZYNBmFg"
	;
static const char VEC_AT_JWT_TYP[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6ImVjMSJ9.eyJpc3M"
	"iOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI"
	"6ImRldi0xIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI"
	"6MTc5OTk5OTk0MH0.ArrqpxRAnoTYK8IEGPgBA46ABiaOLprkrwi5eZsAFZuRGon"
	"rTWDx79i89i7oEMBafvW9o2DY1VZcCG4bd4Bdiw"
	;
static const char VEC_BAD_TYP[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6ImRwb3Arand0Iiwia2lkIjoiZWMxIn0.eyJp"
	"c3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1"
	"YiI6ImRldi0xIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE3OTk5OTk5NDAsImlh"
	"dCI6MTc5OTk5OTk0MH0.cHxbylJlUH4NvKID7WrRpzsb_-cdteXsXcgoPKVkamEo"
	"z0oZpMEbe_ttHbWW1OERNuQm-QdfnJEW7va4DqcsMA"
	;
static const char VEC_CRIT[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSIsImNyaXQiOlsi"
	"ZXhwIl19.eyJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjo"
	"ibXF0dCIsInN1YiI6ImRldi0xIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE3OTk"
	"5OTk5NDAsImlhdCI6MTc5OTk5OTk0MH0.CJGUDdJS6dOLalmfcyehul7jm-clHsy"
	"Xf1ogqyZO3OzpxLoveIixYvW-N6o6guIoAJtkk2FJqYu8C_o0-qIzOw"
	;
static const char VEC_EXPIRED[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6ImR"
	"ldi0xIiwiZXhwIjoxNzk5OTk2NDAwLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI6MTc"
	"5OTk5OTk0MH0.1miG_HIeLzwdfPAM4x_PHJLdPFDtpgJWBpB_TZBbsu3yZXKyNr5"
	"MNVWwWDZpl3IHdm5NiX1ySvrZ6Vu8VK7Klg"
	;
static const char VEC_EXP_EDGE_OK[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6ImR"
	"ldi0xIiwiZXhwIjoxNzk5OTk5OTcxLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI6MTc"
	"5OTk5OTk0MH0.I9acGudcxl5GZftnWHhWNdzMre37UC4qHm3ZxU7B0poSeLOm7rZ"
	"dsYL1-0SopTSzCRycMyPxS_tyqzX9BALi1w"
	;
static const char VEC_EXP_EDGE_BAD[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6ImR"
	"ldi0xIiwiZXhwIjoxNzk5OTk5OTcwLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI6MTc"
	"5OTk5OTk0MH0.mgqtRJn61qoy6OmPtPSwWcy3DDdhW8CQgk6u7-RR44eVw1eSLt0"
	"oxAOexGK90nvp2I49zaTL7nRsF6enpjIqyg"
	;
static const char VEC_EXP_REAL[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6ImR"
	"ldi0xIiwiZXhwIjoxODAwMDAwMDEwLjUsIm5iZiI6MTc5OTk5OTk0MCwiaWF0Ijo"
	"xNzk5OTk5OTQwfQ.NNY1f36uWFg80BuIp4BQ1GPoRk1Z8_xEi5HjdtUnQAQBA_ib"
	"dpNrbYhze54cmU6f4MokOwW9mndt74g1NGpIpA"
	;
static const char VEC_NO_EXP[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6ImR"
	"ldi0xIiwibmJmIjoxNzk5OTk5OTQwLCJpYXQiOjE3OTk5OTk5NDB9.HOcDSckBtl"
	"sm3lle-hTC_e38zb3DYbWuCU_ySDlCq6T_i0aWZV3ChjA47861LBa5wk_JyFUdYG"
	"QOQwrrwkv2zw"
	;
static const char VEC_EXP_STRING[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6ImR"
	"ldi0xIiwiZXhwIjoiMTgwMDAwMDA2MCIsIm5iZiI6MTc5OTk5OTk0MCwiaWF0Ijo"
	"xNzk5OTk5OTQwfQ.ciuk0kxGBeK9pvPt7zkiHNForBE9NN1zv-p88ZtPPpRA6foP"
	"jxo6qoM2CrKwi9lxiecvLAN5g1yR9gA4hVWClA"
	;
static const char VEC_NBF_FUTURE[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6ImR"
	"ldi0xIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE4MDAwMDAwMzEsImlhdCI6MTc"
	"5OTk5OTk0MH0.jJXouqurQl4nrVLO_fBQVfQW6xXXeqPchGEgWwL4y4dsOuVM-2E"
	"mQBRQFYWPxMskFD2aXZKRH2Vwnol3MO97XA"
	;
static const char VEC_NBF_EDGE_OK[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6ImR"
	"ldi0xIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE4MDAwMDAwMzAsImlhdCI6MTc"
	"5OTk5OTk0MH0.qRoEp_dwm3scK4ZlU92j3LfiP2h1-06ZXgvM2qzqg2l0VK5Zpre"
	"14C4nBG7f6vOI8UMlo5fqj0uMYbSfGWuqew"
	;
static const char VEC_WRONG_ISS[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2V2aWwuZXhhbXBsZS8iLCJhdWQiOiJtcXR0Iiwic3ViIjoiZGV2LTE"
	"iLCJleHAiOjE4MDAwMDM2MDAsIm5iZiI6MTc5OTk5OTk0MCwiaWF0IjoxNzk5OTk"
	"5OTQwfQ.nhajU1E92VbBOObwVI__ozMJjmEhR9Hc0D_mQBFPffzZuAxczxFRO4km"
	"6jALVlq15ki50oB9R19pHTQrKH6CSQ"
	;
static const char VEC_NO_ISS[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJhdWQiOiJ"
	"tcXR0Iiwic3ViIjoiZGV2LTEiLCJleHAiOjE4MDAwMDM2MDAsIm5iZiI6MTc5OTk"
	"5OTk0MCwiaWF0IjoxNzk5OTk5OTQwfQ.EfWQ9I07fY80ozQfYP9s2dl_n8t_wvv-"
	"7XHnH8czSwcylJKr4CMBHPTn3qELqxbnnZ_akEsAVcqmzetc-tlgEA"
	;
static const char VEC_WRONG_AUD[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoib3RoZXIiLCJzdWIiOiJ"
	"kZXYtMSIsImV4cCI6MTgwMDAwMzYwMCwibmJmIjoxNzk5OTk5OTQwLCJpYXQiOjE"
	"3OTk5OTk5NDB9.kKBabiKLztqu7TTcrelmIbpP5wEmBMHTJml8s0Q9Ja01iG2woG"
	"XCoHCAZ8WjLg-l_2pMfYnyZsrYaRZ3esNJlg"
	;
static const char VEC_AUD_ARRAY[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjpbIm90aGVyIiwibXF0dCJ"
	"dLCJzdWIiOiJkZXYtMSIsImV4cCI6MTgwMDAwMzYwMCwibmJmIjoxNzk5OTk5OTQ"
	"wLCJpYXQiOjE3OTk5OTk5NDB9.UsswUpILlrRM27IRIQ_cQroGWWoh1OBQP2Txlr"
	"A2gyv7g6a9pP_1ZxZHjskya6tQ5wxz9kwUO7SgG9fxx58rOA"
	;
static const char VEC_AUD_ARRAY_WRONG[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjpbIm90aGVyIiwieCJdLCJ"
	"zdWIiOiJkZXYtMSIsImV4cCI6MTgwMDAwMzYwMCwibmJmIjoxNzk5OTk5OTQwLCJ"
	"pYXQiOjE3OTk5OTk5NDB9.edekp7eo5TyowI4pxwfpH4TR9EFsgdcf-24uaZcsCF"
	"Q2zhF9D_wg7IKCjy1G4JSHjcNDyF3sNIIsUg1lAZ93tQ"
	;
static const char VEC_NO_SUB[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsImV4cCI6MTg"
	"wMDAwMzYwMCwibmJmIjoxNzk5OTk5OTQwLCJpYXQiOjE3OTk5OTk5NDB9.jbL6Wh"
	"VTGGUUWnQ-3TegmhoWbMaCmJiJcW2qQuvSosZMgTbJN6Xl6ZosgLBCg1EMfMhTE8"
	"tg1HXLtqyhV9Su_Q"
	;
static const char VEC_SUB_NUMBER[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6NDI"
	"sImV4cCI6MTgwMDAwMzYwMCwibmJmIjoxNzk5OTk5OTQwLCJpYXQiOjE3OTk5OTk"
	"5NDB9.7HzutqPD_ho-U7sawE6-0TXMKOmCi5QScSspWMKO7uGp8SfeJt6zCFoKy2"
	"-Wmf57BJHbGqVxcc6wKQLCv-cibQ"
	;
static const char VEC_SUB_CTRL[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6ImR"
	"ldlxuMSIsImV4cCI6MTgwMDAwMzYwMCwibmJmIjoxNzk5OTk5OTQwLCJpYXQiOjE"
	"3OTk5OTk5NDB9.WzJY_NiJOmopywt2oPceGxzLHg_XL71aK3YihQWp7JqzQVMctQ"
	"Sl5GM3z3LGzkvgK0XpNxImp-hW9ebgV6AIYw"
	;
static const char VEC_CLIENT_ID_CLAIM[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6ImR"
	"ldi0xIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI6MTc"
	"5OTk5OTk0MCwiY2xpZW50X2lkIjoiZGV2LTkifQ.YiX7lBWirg4Iu3ejNFrj3zCI"
	"BQTU6h6G03FeECpUyYH2-fGIVKMoAEojC4Z5AbYA6G3yLVhaMWz5LtQgrsXtrQ"
	;
static const char VEC_UNKNOWN_KID[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6Im5vcGUifQ.eyJpc3MiO"
	"iJodHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6I"
	"mRldi0xIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI6M"
	"Tc5OTk5OTk0MH0.ldNJ2Xks-wLE9gxjuIRgcHuLfDpY4ZFHbLR22md9tFZdHTvp6"
	"kYrCInKh8TETSWmXhmg9R-3dv2DvSq8KNdRfw"
	;
static const char VEC_WRONG_KEY_TYPE[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6InJzYTEifQ.eyJpc3MiO"
	"iJodHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6I"
	"mRldi0xIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI6M"
	"Tc5OTk5OTk0MH0.TN6J3Ulh9dnNEBBKXZRz2dWGC7xIYTbVGZbVaGiYFaHna_EVa"
	"zH-HghgvlupQDzrV_ruXGODQCD-N0-4AzbMPw"
	;
static const char VEC_RS_ON_EC_KID[] =
	"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6ImR"
	"ldi0xIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI6MTc"
	"5OTk5OTk0MH0.RN_2lOIAFoM7vV-uP4sPbthpDFplde7vkeGOmhBmtvXQ9d00OIn"
	"uL_7rDaLO369zzvBldGuCU-ItsDpFA1rRLC2qJ25gqN9rp00EzOXxITmK3x26dan"
	"__cpEMlvisKC04CKEJ8feB-lsJGCHEqrDp7UJdih8jk2m20JEELi4l0pqnMAjVrf"
	"e2sfRvqDyz_LRfbut0sjL0wQbFD4Baib9hZxCWqVNHpx11nMwyGCHQJm2jdE1Ve_"
	"wbLkT_CI2bOoa0yqkDFo119Sm74IJVJtW5NwceQAxgg2QTwV1VDeLiNJhp7KlT1P"
	"vMW2vy6Vpuc2OgB9H7UHLr-VDenem5bjH8A"
	;
static const char VEC_HS256[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6ImR"
	"ldi0xIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI6MTc"
	"5OTk5OTk0MH0.t56oGzp_3ElE_J73znsueJffZTTgtR-DYC3nxZEJUIMb7eprJUV"
	"gcKee_sjye_A4HfOMWrg_g6mJcejJGyCyuQ"
	;
static const char VEC_ALG_NONE_SIG[] =
	"eyJhbGciOiJub25lIiwidHlwIjoiSldUIiwia2lkIjoiZWMxIn0.eyJpc3MiOiJo"
	"dHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6ImRl"
	"di0xIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI6MTc5"
	"OTk5OTk0MH0.FjGAcx3KgE-B99OcZ9uR8sT-3ubWORKeeFNnJ39zjfflGwAuXBIK"
	"G2XYaJ6OiAFUlieIUqHWLmRIQmU2JfN7kQ"
	;
static const char VEC_PAYLOAD_BAD_JSON[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJzdWIiOiJ"
	"kZXYtMSIs.8GAM6CHvj5jWnxdpQ5qkTkdjk2dOHOdY1DxA-nCsFxuAvEkoeb_sTu"
	"zmYNadEhLCJ6moas9XqVPcqtXfgChRBg"
	;
static const char VEC_ENC_KEY_KID[] =
	"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6InJzYS1lbmMifQ.eyJpc"
	"3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1Y"
	"iI6ImRldi0xIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE3OTk5OTk5NDAsImlhd"
	"CI6MTc5OTk5OTk0MH0.au-pHBVNe3F05qeGAEHasv1Ky-ysMl3oDJzUyGQyo1Ghj"
	"XNUOu4obCtZOFex368ukQb2loYw2nqG3xYPCgtdqficfvE_qoMKX5Y_f8rwvNDmj"
	"6sbuFgKpD7lClRmqu80tZtyMzHyQyPzNHcV8b38dVt4ApHtYiSaNGSQenXNkKM5N"
	"kZ5h6AaETh1lf1cpTk96MczBmchugrIVu4dRDvhFg6R5_rjXO9THXW-PkQ1Cugr3"
	"8t3vgCoI5IFv-ktXE351R7U-ioK2aDo0mJmSpNx9bmvvnHnLtHxBcavAJQI9eyTj"
	"a1g766PHvgNmzg9fL6R-2syzfHSyloT04r025izPQ"
	;
static const char VEC_BAD_SIG[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6ImR"
	"ldi0xIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI6MTc"
	"5OTk5OTk0MH0.wg2LDbJDQY9YZRJOUgwyTYpEZ3INWdKZDrHil8p8tlz2YdI1skq"
	"EDZhEqctPvL19WXNUzJ2gPgD2dDXt3hDHZw"
	;
static const char VEC_SIG_OTHER_KEY[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJ"
	"odHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiYXVkIjoibXF0dCIsInN1YiI6ImR"
	"ldi0xIiwiZXhwIjoxODAwMDAzNjAwLCJuYmYiOjE3OTk5OTk5NDAsImlhdCI6MTc"
	"5OTk5OTk0MH0.R4PvPL4rB4tNm6_X-zQKKMmWZa_1zur4RlOCH1JTqPyms3qHiau"
	"SjIoVxa92pjvz7spyAYg3jNJgPp9cULxNDw"
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
	"Tc5OTk5OTk0MH0.wg2LDbJCQY9YZRJOUgwyTYpEZ3INWdKZDrHil8p8tlz2YdI1s"
	"kqEDZhEqctPvL19WXNUzJ2gPgD2dDXt3hDHZw"
	;
static const char VEC_HEADER_BAD_JSON[] =
	"eyJhbGciOiJFUzI1NiIs.eyJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20"
	"vIiwiYXVkIjoibXF0dCIsInN1YiI6ImRldi0xIiwiZXhwIjoxODAwMDAzNjAwLCJ"
	"uYmYiOjE3OTk5OTk5NDAsImlhdCI6MTc5OTk5OTk0MH0.wg2LDbJCQY9YZRJOUgw"
	"yTYpEZ3INWdKZDrHil8p8tlz2YdI1skqEDZhEqctPvL19WXNUzJ2gPgD2dDXt3hD"
	"HZw"
	;
